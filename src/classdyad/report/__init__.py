"""Templates, figures and tables; the only place numbers are rounded."""
