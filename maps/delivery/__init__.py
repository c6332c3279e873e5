"""Links from CX projects to the delivery tools where the work is tracked (Jira, Linear,
Azure DevOps, GitHub, GitLab), recognised with their key, and the delivery status of each
key imported from those tools' CSV exports (``status_import``)."""
