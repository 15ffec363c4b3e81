"""Support tickets (sollicitations): requests by category to a public structure or to the platform's support team."""
