"""Layer 3, graph data: the CSR graph, partitions, a dataset in partition order, feature rows read
in place, mini-batches of parts with their 1-hop halo, prefetching, and Â with its normalisations.
"""

from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatch, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.features import FeatureRows
from visagnn.graph.partition import Partition, partition_graph, range_partition
from visagnn.graph.partitioned import PartitionedGraph

__all__ = ["CSRGraph", "FeatureRows", "Partition", "PartitionBatchLoader", "PartitionedGraph",
           "SubgraphBatch", "SubgraphBatcher", "partition_graph", "range_partition"]
