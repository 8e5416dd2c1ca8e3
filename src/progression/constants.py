"""Constants of the field and of time, each defined once.

Examples
--------
>>> from progression.constants import DAYS_PER_YEAR, TARGET_GROUPS
>>> DAYS_PER_YEAR
365.25
>>> TARGET_GROUPS
('sindslidelse', 'kognitivt_handicap', 'begge')
"""

#: Days in a year (Julian year): converts day differences to years throughout the package.
DAYS_PER_YEAR = 365.25
#: Days in a month, a twelfth of a year.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

#: VUM target groups: mental illness, cognitive disability, both.
TARGET_GROUPS = ("sindslidelse", "kognitivt_handicap", "begge")
#: Sex codes of the registers.
SEXES = ("K", "M")
#: Public payers of a budget consequence (SØM).
PAYERS = ("kommune", "region", "stat")
