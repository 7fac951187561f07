-- Topics of the embedded sample: each stored row's cluster under the topic model of its
-- stream's reference (-1: stored before a model existed), and its place on the 2-D
-- projection fitted on that reference (NaN when none), for Grafana's XY chart.
ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS cluster Int16 DEFAULT -1;
ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS x Float32 DEFAULT nan;
ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS y Float32 DEFAULT nan;
-- The cluster-share test's reading of a window (method cluster_share): the clusters that grew
-- or shrank, with their keywords and shares, in one line ('' for every other method).
ALTER TABLE drift ADD COLUMN IF NOT EXISTS changed_clusters String DEFAULT '';
