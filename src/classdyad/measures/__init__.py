"""Questionnaire scoring and reliability, IAT D scores, inter-coder agreement. DataFrames in, results out."""
