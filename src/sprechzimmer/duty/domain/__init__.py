"""Ärztlicher Bereitschaftsdienst: the pure domain core (no Django): duty times (calendar), the fair
planner, K-Arzt rules (cooperation) and pay (pay)."""
