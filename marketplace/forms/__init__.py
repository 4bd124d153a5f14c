"""Forms, one module per area (as services/ and views/): shape validation only."""
