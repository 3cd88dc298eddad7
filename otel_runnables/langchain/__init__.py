"""The langchain-core bridge: trace langchain-core and LangGraph applications with one line.

Every langchain-core run (chains, lambdas, sequences, parallels, prompts, parsers, chat models,
LLMs, tools, retrievers, LangGraph graphs and nodes) becomes a span with the same mapping as
otel_runnables' own runs; every ``dispatch_custom_event`` a span event. Model, tool and
retriever runs also carry the OpenTelemetry GenAI conventions and OpenInference's LLM
attributes. While a run's code executes, its span is the current span.

Needs ``pip install "otel-runnables[langchain]"`` (langchain-core); ``import otel_runnables``
itself never imports langchain-core.

Example:
    >>> from otel_runnables.langchain import LangChainInstrumentor
    >>> LangChainInstrumentor().instrument()          # doctest: +SKIP
"""

from ._instrumentor import LangChainInstrumentor

__all__ = ["LangChainInstrumentor"]
