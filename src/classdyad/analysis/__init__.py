"""The analysis dataset, mixed models, count models, mediation, moderation and negativity bias. DataFrames in, results out."""
