"""Rule family: antithrombotic.

The rules of this family are registered in linter/rules/__init__.py (RULE_MODULES), the one registry.
"""
