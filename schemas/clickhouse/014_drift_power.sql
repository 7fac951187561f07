-- Power-aware verdicts (detectors/drift/power.py): the smallest mixture fraction of a held-out
-- shift the window could detect with power 0.8 at the row's alpha (NaN: not calibrated, as for
-- the change tests on scalars), and the window's verdict: 'drift', 'no_drift', or
-- 'insufficient_data' when that fraction is above the configured minimum effect. `drifted`
-- keeps its meaning (the test rejected at alpha); rows stored before read as before.
ALTER TABLE drift ADD COLUMN IF NOT EXISTS min_detectable_effect Float64 DEFAULT nan;
ALTER TABLE drift ADD COLUMN IF NOT EXISTS verdict LowCardinality(String)
    DEFAULT if(drifted, 'drift', 'no_drift');
