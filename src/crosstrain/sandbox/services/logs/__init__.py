"""CloudWatch Logs: retention and the per-group cap (moto keeps logs forever)."""
