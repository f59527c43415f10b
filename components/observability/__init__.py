"""The observability base: kube-prometheus-stack, the DCGM ServiceMonitor, GPU dashboards and alerting rules.
The component is `components.observability.stack.Observability`; rules/dashboards/values are plain data."""
