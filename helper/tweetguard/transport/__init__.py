"""How requests reach the helper: native messaging from the browser (and, later, websockets)."""
