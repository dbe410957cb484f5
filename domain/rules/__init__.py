"""The program's rules, each a small pure function with a name and a version.

The name and version of the rule that decided are recorded in the events it decides, so an auditor
can tell which version of the rules was in force for any fact.
"""
