"""API views, one module per area, as in marketplace/views/."""
