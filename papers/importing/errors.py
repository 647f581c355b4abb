"""The one error of the import path: input that is not valid Anthology data."""


class AnthologyDataError(Exception):
    """Input that is not valid Anthology data: the message names the file and the problem."""
