"""The web application (coding UI, live observation, teacher dashboard, administration)."""
