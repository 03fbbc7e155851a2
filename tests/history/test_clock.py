import pytest

from visagnn.history.clock import Clock


def test_clock_starts_before_the_first_step_of_epoch_one():
    assert Clock() == Clock(iteration=0, epoch=1)


@pytest.mark.parametrize("fields, name", [(dict(iteration=-1), "iteration"),
                                          (dict(epoch=0), "epoch")])
def test_clock_refuses_counts_below_their_start(fields, name):
    with pytest.raises(ValueError, match=f"Clock.{name}"):
        Clock(**fields)
