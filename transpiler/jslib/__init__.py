"""Runtime helpers called by generated code: the ECMAScript algorithms, one module per area.

Generated code never inlines an algorithm longer than a guard and a Python operator; anything
with JavaScript-specific rules lives here, once.
"""
