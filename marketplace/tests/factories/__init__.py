"""factory_boy factories and test builders, one module per area. Reference data (provinces,
cities, categories) comes from migrations."""
