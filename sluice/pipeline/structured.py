"""Structured output: under ``structured_output: validate | repair`` a JSON answer to a request
with a ``json_schema`` (compiled by the input guard, once per distinct schema) is checked against
it. With ``repair`` the model is asked once more, shown its answer and what is wrong with it;
an answer that still does not match is a ``StructuredOutputError`` (its tokens are charged).
Streams are not checked (their text reaches the client as it is made)."""

from __future__ import annotations

import msgspec

from sluice.errors import StructuredOutputError
from sluice.guardrails import schema
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Ask, Stage
from sluice.types import ChatRequest, ChatResponse


class StructuredOutputStage(Stage):
    name = "structured output"

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        request, checker = ctx.request, ctx.answer_schema
        if checker is None:
            return response
        assert isinstance(request, ChatRequest)
        text = response.choices[0].message.content or "" if response.choices else ""
        errors = checker.check(text)
        if not errors:
            return response
        action = "repair" if ctx.structured_output == "repair" else "block"
        ctx.note_guardrail("output", "json_schema", action)
        if action == "repair":
            retry = msgspec.structs.replace(
                request, messages=[*request.messages, *schema.repair_prompt(checker.schema, text, errors)]
            )
            fixed = await ask(retry)
            text = fixed.choices[0].message.content or "" if fixed.choices else ""
            errors = checker.check(text)
            if not errors:
                return fixed
        raise StructuredOutputError(
            "The model's answer does not match the requested json_schema"
            f"{' after one repair attempt' if action == 'repair' else ''}: " + schema.summary(errors)
        )
