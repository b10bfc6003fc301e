"""Per-process room state for `/ws/layouts/{id}/`: connections, pose tick, ordered `applied` delivery,
presence and locks (the shared parts live in Redis so that several daphne processes form one room)."""
