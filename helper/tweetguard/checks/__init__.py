"""The rules a post is checked against: one module per rule family, rules as data."""
