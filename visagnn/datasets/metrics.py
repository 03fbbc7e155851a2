r"""Node-classification metrics: accuracy and binary ROC-AUC.

Pure functions of tensors; they never look at a graph or a mask. :meth:`GraphDataset.score
<visagnn.datasets.GraphDataset.score>` selects the nodes and picks the metric.
"""

from __future__ import annotations

import torch
from scipy.stats import rankdata
from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    r"""Fraction of rows whose highest-scoring class is the label.

    .. math::
        \mathrm{acc} = \frac{1}{n} \sum_{i=1}^{n} [\arg\max_c z_{ic} = y_i]

    Args:
        logits: ``[n, C]`` class scores (logits, log-probabilities or probabilities).
        y: ``[n]`` integer labels.

    Raises:
        ValueError: if the shapes disagree or ``n == 0``.
    """
    if logits.dim() != 2 or y.dim() != 1 or logits.size(0) != y.size(0):
        raise ValueError(
            f"accuracy expects logits [n, C] and y [n], got {tuple(logits.shape)} and "
            f"{tuple(y.shape)}"
        )
    if y.numel() == 0:
        raise ValueError("accuracy of an empty set of nodes is undefined")
    correct = logits.detach().argmax(dim=-1) == y.to(logits.device)
    return correct.double().mean().item()


def roc_auc(scores: Tensor, y: Tensor) -> float:
    r"""Area under the ROC curve of ``scores`` for binary labels ``y``.

    Computed through the Mann–Whitney U statistic, with tied scores sharing the mean of their
    ranks:

    .. math::
        \mathrm{AUC} = \frac{\sum_{i : y_i = 1} r_i - n_+ (n_+ + 1) / 2}{n_+ \, n_-}
        = P(s^+ > s^-) + \tfrac{1}{2} P(s^+ = s^-),

    where :math:`r_i` is the 1-based rank of :math:`s_i` among all :math:`n` scores and
    :math:`n_+`, :math:`n_-` count the positive and negative labels. Time
    :math:`O(n \log n)`, memory :math:`O(n)`.

    Args:
        scores: ``[n]`` scores, higher meaning more likely positive (e.g. the probability of
            class 1).
        y: ``[n]`` labels in ``{0, 1}`` (integer or bool).

    Raises:
        ValueError: if the shapes disagree, a label is not 0 or 1, or only one class occurs.
    """
    if scores.dim() != 1 or y.dim() != 1 or scores.size(0) != y.size(0):
        raise ValueError(
            f"roc_auc expects scores [n] and y [n], got {tuple(scores.shape)} and {tuple(y.shape)}"
        )
    scores = scores.detach().double()
    y = y.to(scores.device)
    positive = y == 1
    if not bool((positive | (y == 0)).all()):
        raise ValueError("roc_auc expects binary labels in {0, 1}")
    num_positive = int(positive.sum())
    num_negative = y.numel() - num_positive
    if num_positive == 0 or num_negative == 0:
        raise ValueError("roc_auc is undefined when only one class occurs among the labels")

    rank = torch.from_numpy(rankdata(scores.cpu().numpy()))  # ties share their mean rank
    u_statistic = rank[positive.cpu()].sum() - num_positive * (num_positive + 1) / 2
    return (u_statistic / (num_positive * num_negative)).item()
