"""REST interface of the collaboration area: comments, the audit trail, scenarios and KPI comparison."""
