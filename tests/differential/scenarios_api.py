"""Scenarios of the rest of the runnables API: RunnableBranch, RunnableEach / map(),
with_listeners / with_alisteners, batch_as_completed, configurable fields and alternatives,
with_types and the schemas, get_graph, the keyword arguments of bind and of a call, config
values of the wrong type, and the helpers (coerce_to_runnable, get_config_list,
run_in_executor).

(No ``from __future__ import annotations`` here: the schema scenarios read the functions' type
hints, and langchain-core resolves string hints in its own modules.)
"""

import asyncio
import operator
from collections.abc import AsyncIterator, Iterator
from typing import Any, Optional

from .scenarios import Lib, Recorder, scenario

THREADS = (
    "sync steps of a batch or map run in a thread pool: concurrent runs are reported in the "
    "order the threads happen to finish"
)
TASKS = (
    "concurrent asyncio tasks (abatch under map, as_completed): how their callbacks interleave "
    "depends on where each implementation yields to the event loop"
)
LISTENER_PARENT = (
    "a listener's run has its real parent_run_id; langchain-core's listener tracer never saw "
    "the parent run and reports None"
)
EACH_STREAMS = (
    "langchain-core's RunnableEach refuses to be the root of astream_events "
    "(NotImplementedError); ours streams its events like any other runnable"
)


def _add_one(x: int) -> int:
    return x + 1


def _double(x: int) -> int:
    return x * 2


def _to_dict(x: int) -> dict:
    return {"a": x, "b": -x}


def _reads_keys(d):  # type: ignore[no-untyped-def]  # no hint: the keys it reads
    return d["a"] + d.get("b", 0)


def _maybe(x: Optional[list[int]]) -> dict[str, float]:  # noqa: UP045 (typing.Optional)
    return {"n": float(len(x or []))}


def _lengths(chunks: Iterator[str]) -> Iterator[int]:
    for chunk in chunks:
        yield len(chunk)


def _words(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk.split()


async def _awords(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        for word in chunk.split():
            yield word


# --------------------------------------------------------------------------- RunnableBranch


def _branch(lib: Lib) -> Any:
    lam = lib.RunnableLambda
    return lib.RunnableBranch(
        (lam(lambda x: isinstance(x, str), name="is_str"), lam(str.upper, name="upper")),
        (lam(lambda x: isinstance(x, int), name="is_int"), lam(_add_one)),
        lam(lambda x: "other", name="other"),
    )


@scenario()
def s_branch_invoke_handler(lib: Lib, rec: Recorder) -> None:
    """RunnableBranch.invoke: conditions tagged condition:N, the branch branch:N / default."""
    handler = rec.handler()
    for value in (1, "a", None):
        rec.outcome(_branch(lib).invoke, value, {"callbacks": [handler], "tags": ["t"]})


@scenario()
async def s_branch_ainvoke_events(lib: Lib, rec: Recorder) -> None:
    """RunnableBranch under astream_events: the condition runs, the branch, the stream."""
    await rec.events(_branch(lib), 2)
    await rec.events(_branch(lib), None)


@scenario()
def s_branch_stream_chosen_branch(lib: Lib, rec: Recorder) -> None:
    """stream() streams the chosen branch (a generator), handler inputs and outputs."""
    branch = lib.RunnableBranch(
        (lambda x: len(x) > 3, lib.RunnableGenerator(_words)), lib.RunnableLambda(str.upper)
    )
    rec.stream(branch, "a b c d", {"callbacks": [rec.handler()]})
    rec.stream(branch, "ab", {"callbacks": [rec.handler("h2")]})


@scenario()
async def s_branch_astream_events_in_sequence(lib: Lib, rec: Recorder) -> None:
    """A branch between two steps, its branch an async generator, under astream_events."""
    branch = lib.RunnableBranch(
        (lambda x: True, lib.RunnableGenerator(_awords)), lib.RunnableLambda(lambda x: x)
    )
    seq = lib.RunnableLambda(lambda x: x + " end", name="first") | branch | lib.RunnableLambda(
        lambda x: x, name="last"
    )
    await rec.events(seq, "a b")


@scenario()
def s_branch_condition_error(lib: Lib, rec: Recorder) -> None:
    """A condition that raises fails the branch; the error propagates."""

    def broken(x: int) -> bool:
        raise KeyError("no condition")

    branch = lib.RunnableBranch((broken, _add_one), _double)
    rec.outcome(branch.invoke, 1, {"callbacks": [rec.handler()]})


@scenario()
def s_branch_construction_errors(lib: Lib, rec: Recorder) -> None:
    """The errors of a badly made RunnableBranch (langchain-core's types and messages)."""
    for args in (
        (_add_one,),
        ((_add_one, _add_one), 5),
        (5, _add_one),
        ((_add_one,), _add_one),
    ):
        rec.outcome(lib.RunnableBranch, *args)


# --------------------------------------------------------------------------- RouterRunnable


@scenario()
async def s_router_runs_the_chosen_runnable(lib: Lib, rec: Recorder) -> None:
    """RouterRunnable: the runnable of input["key"] runs on input["input"] (no run of its own);
    an unknown key raises."""
    router = lib.RouterRunnable({"add": _add_one, "double": lib.RunnableLambda(_double)})
    rec.outcome(router.invoke, {"key": "double", "input": 4}, {"callbacks": [rec.handler()]})
    rec.outcome(router.invoke, {"key": "nope", "input": 4})
    rec.outcome(router.batch, [{"key": "nope", "input": 1}])
    await rec.events(router, {"key": "add", "input": 1})
    await rec.astream(router, {"key": "double", "input": 2})


# --------------------------------------------------------------------------- RunnableEach


@scenario(relaxed=THREADS)
def s_map_invoke_handler(lib: Lib, rec: Recorder) -> None:
    """map(): one RunnableEach<name> run, a child run per element (bound.batch)."""
    each = lib.RunnableLambda(_add_one).map()
    rec.add("name", value=each.get_name())
    rec.outcome(each.invoke, [1, 2, 3], {"callbacks": [rec.handler()], "tags": ["t"]})


@scenario()
def s_map_one_element_bind_and_with_config(lib: Lib, rec: Recorder) -> None:
    """bind and with_config of a map apply to each element's run; kwargs reach the function."""
    each = lib.RunnableEach(bound=lib.RunnableLambda(lambda x, **kw: [x, sorted(kw)]))
    bound = each.bind(k=1).with_config(tags=["element"], run_name="elem")
    rec.outcome(bound.invoke, [7], {"callbacks": [rec.handler()]})


@scenario(relaxed=TASKS)
async def s_map_in_sequence_astream_events(lib: Lib, rec: Recorder) -> None:
    """A map inside a sequence under astream_events (its elements as concurrent tasks)."""

    async def inc(x: int) -> int:
        return x + 1

    seq = lib.RunnableLambda(lambda x: list(range(x)), name="spread") | lib.RunnableLambda(
        inc
    ).map()
    await rec.events(seq, 2)


def _each_refused(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    message = "RunnableEach does not support astream_events yet."
    return [{"src": "raised", "error": {"exc": "NotImplementedError", "msg": message}}]


@scenario(divergence=(EACH_STREAMS, _each_refused))
async def s_map_root_astream_events(lib: Lib, rec: Recorder) -> None:
    """A map at the root of astream_events."""
    await rec.events(lib.RunnableLambda(_add_one).map(), [1])


# --------------------------------------------------------------------------- listeners


def _listener_record(rec: Recorder, which: str, run: Any, config: Any = None) -> None:
    rec.add(
        "listener",
        which=which,
        run_id=run.id,
        parent_run_id=run.parent_run_id,
        name=run.name,
        run_type=run.run_type,
        inputs=dict(run.inputs),
        outputs=dict(run.outputs or {}),
        error=None if run.error is None else run.error.splitlines()[0],
        ended=run.end_time is not None,
        ordered=run.end_time is None or run.start_time <= run.end_time,
        tags=list(run.tags or []),
        metadata=dict(run.metadata or {}),
        # (config["callbacks"] is each library's own object)
        config=None if config is None else {k: v for k, v in config.items() if k != "callbacks"},
        config_has_callbacks=None if config is None else "callbacks" in config,
    )


def _listener_parents_unknown(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "parent_run_id": None} if r["src"] == "listener" else r for r in log]


@scenario(divergence=(LISTENER_PARENT, _listener_parents_unknown))
def s_listeners_run_fields(lib: Lib, rec: Recorder) -> None:
    """with_listeners: start and end of the bound runnable's run, with the run's fields; a
    listener taking ``config`` gets the call's config."""
    step = lib.RunnableLambda(_to_dict, name="to_dict")
    listened = step.with_listeners(
        on_start=lambda run: _listener_record(rec, "start", run),
        on_end=lambda run, config: _listener_record(rec, "end", run, config),
    )
    seq = lib.RunnableLambda(_add_one) | listened
    rec.outcome(seq.invoke, 1, {"callbacks": [rec.handler()], "tags": ["t"], "metadata": {"m": 1}})


@scenario()
def s_listeners_on_error(lib: Lib, rec: Recorder) -> None:
    """on_error gets the run with the error (its repr first)."""

    def boom(x: int) -> int:
        raise ValueError("listener saw this")

    listened = lib.RunnableLambda(boom).with_listeners(
        on_end=lambda run: _listener_record(rec, "end", run),
        on_error=lambda run: _listener_record(rec, "error", run),
    )
    rec.outcome(listened.invoke, 1)


@scenario()
def s_listeners_stream_inputs(lib: Lib, rec: Recorder) -> None:
    """A streamed run's listeners: the input is known at the end only."""
    listened = lib.RunnableGenerator(_lengths).with_listeners(
        on_start=lambda run: _listener_record(rec, "start", run),
        on_end=lambda run: _listener_record(rec, "end", run),
    )
    rec.stream(listened, "abc")


@scenario()
async def s_alisteners_awaited(lib: Lib, rec: Recorder) -> None:
    """with_alisteners: async listeners are awaited before the step and after it."""

    async def on_start(run: Any) -> None:
        await asyncio.sleep(0)
        _listener_record(rec, "start", run)

    async def on_end(run: Any, config: Any) -> None:
        await asyncio.sleep(0)
        _listener_record(rec, "end", run, config)

    async def step(x: int) -> int:
        rec.add("step", value=x)
        return x * 3

    listened = lib.RunnableLambda(step).with_alisteners(on_start=on_start, on_end=on_end)
    await rec.aoutcome(listened.ainvoke(2, {"tags": ["a"]}))


@scenario(relaxed=THREADS)
def s_listeners_of_a_map(lib: Lib, rec: Recorder) -> None:
    """with_listeners of a map listens to each element's run."""
    ends: list[Any] = []
    each = lib.RunnableLambda(_double).map().with_listeners(on_end=ends.append)
    rec.outcome(each.invoke, [1, 2])
    rec.add("ends", outputs=sorted(run.outputs["output"] for run in ends))


# --------------------------------------------------------------------------- batch_as_completed


@scenario(relaxed=THREADS)
def s_batch_as_completed(lib: Lib, rec: Recorder) -> None:
    """batch_as_completed: (index, output) pairs (sorted here), one run per input."""

    def check(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x * 10

    runnable = lib.RunnableLambda(check)
    pairs = runnable.batch_as_completed([1, 2, 3], {"callbacks": [rec.handler()]},
                                        return_exceptions=True)  # fmt: skip
    rec.add("pairs", value=sorted(pairs, key=lambda p: p[0]))
    rec.outcome(lambda: list(runnable.batch_as_completed([2])))


@scenario(relaxed=TASKS)
async def s_abatch_as_completed(lib: Lib, rec: Recorder) -> None:
    """abatch_as_completed: pairs as each finishes (here in completion order)."""

    async def wait(x: int) -> int:
        await asyncio.sleep(x / 100)
        return x

    stream = lib.RunnableLambda(wait).abatch_as_completed([3, 0, 1], {"callbacks": [rec.handler()]})
    rec.add("result", value=[pair async for pair in stream])


# --------------------------------------------------------------------------- configurable


@scenario()
def s_configurable_fields(lib: Lib, rec: Recorder) -> None:
    """configurable_fields: the configured copy runs (named after its configured field)."""
    pick = lib.RunnablePick("a").configurable_fields(
        keys=lib.ConfigurableField(id="key", name="Key", description="which key")
    )
    seq = lib.RunnableLambda(_to_dict) | pick
    handler = rec.handler()
    rec.outcome(seq.invoke, 1, {"callbacks": [handler]})
    rec.outcome(seq.invoke, 1, {"callbacks": [handler], "configurable": {"key": "b"}})
    rec.add("specs", value=[(s.id, s.name, s.description, s.default) for s in seq.config_specs])
    rec.add("schema", value=seq.get_config_jsonschema())


@scenario()
async def s_configurable_alternatives(lib: Lib, rec: Recorder) -> None:
    """configurable_alternatives: the chosen runnable runs; unknown keys raise."""
    default = lib.RunnablePassthrough()
    choice = default.configurable_alternatives(
        lib.ConfigurableField(id="op"),
        default_key="same",
        double=lib.RunnableLambda(_double),
    )
    await rec.events(choice, 4)
    await rec.events(choice.with_config(configurable={"op": "double"}), 4)
    await rec.aoutcome(choice.ainvoke(4, {"configurable": {"op": "nope"}}))
    rec.add("schema", value=choice.get_config_jsonschema())


# --------------------------------------------------------------------------- schemas and graphs


def _shapes(lib: Lib) -> dict[str, Any]:
    lam = lib.RunnableLambda
    inner = lam(_double)
    return {
        "lambda": lam(_add_one),
        "lambda-keys": lam(_reads_keys),
        "lambda-itemgetter": lam(operator.itemgetter("a", "b")),
        "lambda-optional": lam(_maybe),
        "lambda-calls": lam(lambda x: inner.invoke(x) + 1),
        "sequence": lam(_add_one) | lam(_double),
        "sequence-dict": lam(_add_one) | {"a": lam(_add_one), "b": lib.RunnablePassthrough()},
        "parallel-keys": lib.RunnableParallel(a=lam(_reads_keys), b=lam(lambda d: d["c"])),
        "assign": lib.RunnablePassthrough.assign(x=lam(_reads_keys)),
        "assign-then": lib.RunnablePassthrough.assign(x=lam(_add_one)) | lam(_reads_keys),
        "pick": lam(_to_dict) | lib.RunnablePick(["a"]),
        "generator": lib.RunnableGenerator(_lengths),
        "passthrough": lib.RunnablePassthrough(input_type=int),
        "binding": lam(_add_one).bind(k=1).with_config(tags=["x"], metadata={"m": 1}),
        "types": lam(_add_one).with_types(input_type=str, output_type=list[str]),
        "retry": lam(_add_one).with_retry(),
        "fallbacks": lam(_add_one).with_fallbacks([lam(_double)]),
        "map": lam(_add_one).map(),
        "branch": _branch(lib),
        "router": lib.RouterRunnable({"add": _add_one}),
        "mixed": lam(_add_one).with_fallbacks([lam(_add_one)])
        | lib.RunnablePassthrough.assign(x=_add_one)
        | lam(_add_one).map(),
    }


def _no_descriptions(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema without the descriptions of its ``$defs`` (a class's docstring: the
    library's own words, e.g. of ``RouterInput``)."""
    defs = {k: {**v, "description": "-"} for k, v in schema.get("$defs", {}).items()}
    return {**schema, "$defs": defs} if defs else schema


@scenario()
def s_schemas_of_every_kind(lib: Lib, rec: Recorder) -> None:
    """Input, output and config JSON schemas, from the type hints of each kind."""
    for name, runnable in _shapes(lib).items():
        rec.add(
            "result",
            name=name,
            input=_no_descriptions(runnable.get_input_jsonschema()),
            output=runnable.get_output_jsonschema(),
            config=runnable.get_config_jsonschema(include=["tags", "run_name", "run_id"]),
        )


@scenario()
def s_graph_mermaid_of_every_kind(lib: Lib, rec: Recorder) -> None:
    """get_graph().draw_mermaid() (with and without styles) of each kind."""
    for name, runnable in _shapes(lib).items():
        graph = runnable.get_graph()
        rec.add("result", name=name, styled=graph.draw_mermaid(),
                plain=graph.draw_mermaid(with_styles=False))  # fmt: skip


@scenario()
def s_graph_json_and_options(lib: Lib, rec: Recorder) -> None:
    """get_graph().to_json() (names and kinds of nodes, edges) and draw_mermaid's options."""
    for name, runnable in _shapes(lib).items():
        data = runnable.get_graph().to_json()
        for node in data["nodes"]:
            if node.get("type") == "runnable":
                node["data"] = {"name": node["data"]["name"]}  # (ids are each library's own)
        rec.add("result", name=name, value=data)
    graph = (lib.RunnableLambda(_add_one) | {"a": _double}).get_graph({"metadata": {"k": "v"}})
    options = {"wrap_label_n_words": 2, "frontmatter_config": {"config": {"theme": "neutral"}}}
    rec.add("result", value=graph.draw_mermaid(**options))


@scenario()
def s_with_types(lib: Lib, rec: Recorder) -> None:
    """with_types replaces the input/output types and schemas, not the behaviour."""
    typed = lib.RunnableLambda(lambda x: [str(x)], name="free").with_types(input_type=int)
    rec.add("types", input=repr(typed.InputType), output=repr(typed.OutputType))
    rec.add("schemas", input=typed.get_input_jsonschema(), output=typed.get_output_jsonschema())
    rec.outcome(typed.invoke, 5, {"callbacks": [rec.handler()]})


# --------------------------------------------------------------------------- kwargs and config


@scenario()
async def s_bind_kwargs_reach_the_functions(lib: Lib, rec: Recorder) -> None:
    """Keyword arguments of bind and of a call reach a lambda, a generator, a sequence's
    first step only."""
    echo = lib.RunnableLambda(lambda x, **kw: [x, kw], name="echo")
    rec.outcome(echo.bind(k=1).invoke, 0)
    rec.outcome(echo.invoke, 0, None, k=2)

    def gen(chunks: Iterator[int], **kw: Any) -> Iterator[Any]:
        for chunk in chunks:
            yield [chunk, kw]

    rec.stream(lib.RunnableGenerator(gen).bind(k=3), 0)
    await rec.events((echo | echo).bind(k=4), 0)


@scenario()
def s_with_config_wrong_type_raises(lib: Lib, rec: Recorder) -> None:
    """with_config(tags="abc") is refused when it is written (not three tags a, b, c)."""
    step = lib.RunnableLambda(_add_one)
    for bad in ({"tags": "abc"}, {"metadata": 5}):
        try:
            step.with_config(**bad)
        except (TypeError, ValueError):
            rec.add("result", refused=next(iter(bad)))
        else:
            rec.add("result", accepted=next(iter(bad)))


# --------------------------------------------------------------------------- helpers


@scenario()
async def s_helpers(lib: Lib, rec: Recorder) -> None:
    """coerce_to_runnable, get_config_list and run_in_executor as langchain-core has them."""
    coerced = lib.coerce_to_runnable({"a": _add_one})
    rec.outcome(coerced.invoke, 1)
    configs = lib.get_config_list({"tags": ["t"], "max_concurrency": 2}, 2)
    rec.add("configs", value=[(c.get("tags"), c.get("max_concurrency")) for c in configs])
    rec.add("executor", value=await lib.run_in_executor(None, _double, 21))
    try:
        await lib.run_in_executor(None, next, iter(()))
    except Exception as exc:
        rec.add("raised", error=exc)
