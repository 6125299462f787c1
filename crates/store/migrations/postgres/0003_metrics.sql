-- v3 conversation `metrics` ([{metricGroupName, metricValues[…]}]) of plain media
-- processed with `configuration.metrics`; encrypted media keep them only inside their
-- encrypted result document.
alter table media add column metrics json;
