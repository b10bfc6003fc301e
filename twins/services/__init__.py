"""Services: the only code that writes shared state. Each validates, runs atomically, bumps the layout
revision, appends the audit entry and broadcasts the `applied` event once committed."""
