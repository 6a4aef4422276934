"""``triton.runtime.errors``."""


class OutOfResources(Exception):
    """A kernel asks for more of a resource (threadgroup memory, threads) than the device has."""

    def __init__(self, required, limit, name):
        self.required = required
        self.limit = limit
        self.name = name
        super().__init__(f"out of resource: {name}, Required: {required}, Hardware limit: {limit}")
