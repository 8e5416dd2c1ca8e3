"""Goodness of fit (placeholder filled below)."""


class GoodnessMethods:
    pass
