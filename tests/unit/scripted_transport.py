"""An httpx.MockTransport handler that answers from a script, for the clients' unit tests."""

import httpx


class Script:
    """MockTransport handler answering from a list (a response, or an exception to raise)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
