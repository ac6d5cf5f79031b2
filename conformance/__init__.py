"""Differential testing of the python engine against QuickJS."""
