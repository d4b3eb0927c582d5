"""人民情感日志: the cadres' visit logs, kept whole for operators and admins (docs/residents.md, "Visit logs")."""
