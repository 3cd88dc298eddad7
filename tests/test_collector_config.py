"""Structure of collector-config/: the files agree with each other.

CI cannot run containers, so these checks are static. Every expectation is read from the files
themselves (ports from the collector/Tempo configs and compose, service names from compose), so
changing a port in one place and forgetting another fails here.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

CONFIG_DIR = Path(__file__).resolve().parents[1] / "collector-config"
COLLECTOR_FILE = "otel-collector.yaml"
TEMPO_FILE = "tempo.yaml"
DATASOURCES_FILE = "grafana-datasources.yaml"
COMPOSE_FILE = "compose.yaml"
LOKI_FILE = "loki.yaml"
PROMETHEUS_FILE = "prometheus.yaml"
COMPONENT_KINDS = ("receivers", "processors", "exporters")


# --------------------------------------------------------------------------- loading


@functools.cache
def load(name: str) -> Any:
    with (CONFIG_DIR / name).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def collector() -> dict[str, Any]:
    return load(COLLECTOR_FILE)


def services() -> dict[str, dict[str, Any]]:
    return load(COMPOSE_FILE)["services"]


def component_type(name: str) -> str:
    """``otlp/jaeger`` -> ``otlp`` (the collector's ``type[/name]`` component ids)."""
    return name.split("/", 1)[0]


def host_port(address: str) -> tuple[str, int]:
    """``0.0.0.0:4317``, ``jaeger:4317``, ``:4317`` or ``http://tempo:3200`` -> (host, port)."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    assert parts.port is not None, f"no port in {address!r}"
    return parts.hostname or "", parts.port


def endpoints(tree: Any) -> list[str]:
    """Every ``endpoint:`` value anywhere below *tree*."""
    found: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "endpoint" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(endpoints(value))
    elif isinstance(tree, list):
        for value in tree:
            found.extend(endpoints(value))
    return found


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Compose ``ports`` (short or long syntax) as {container port: host port}."""
    result: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            result[int(entry["target"])] = int(entry.get("published", entry["target"]))
            continue
        fields = str(entry).split("/", 1)[0].split(":")
        container = int(fields[-1])
        result[container] = int(fields[-2]) if len(fields) >= 2 else container
    return result


def declared_container_ports(service: dict[str, Any]) -> set[int]:
    exposed = {int(str(p).split("/", 1)[0]) for p in service.get("expose", [])}
    return exposed | set(published_ports(service))


def bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Relative bind mounts of a compose service as {file name in collector-config: target}."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            mounts[source[2:]] = target
    return mounts


def service_mounting(file_name: str) -> str:
    owners = [name for name, svc in services().items() if file_name in bind_mounts(svc)]
    assert len(owners) == 1, f"{file_name} should be mounted by exactly one service: {owners}"
    return owners[0]


def tempo_listen_ports() -> set[int]:
    tempo = load(TEMPO_FILE)
    server = tempo.get("server", {})
    ports = {int(server[k]) for k in ("http_listen_port", "grpc_listen_port") if k in server}
    return ports | {host_port(e)[1] for e in endpoints(tempo["distributor"]["receivers"])}


def listen_ports(service_name: str) -> set[int]:
    """Ports the process in *service_name* listens on, per its own configuration.

    Tempo, Loki and the collector: their mounted config files; Prometheus: its
    ``--web.listen-address`` flag; others: ``*_HOST_PORT`` / ``*_HTTP_PORT`` settings in their
    compose environment.
    """
    service = services()[service_name]
    mounts = bind_mounts(service)
    ports: set[int] = set()
    if TEMPO_FILE in mounts:
        ports |= tempo_listen_ports()
    if LOKI_FILE in mounts:
        server = load(LOKI_FILE)["server"]
        ports |= {int(server[k]) for k in ("http_listen_port", "grpc_listen_port") if k in server}
    command = service.get("command", [])
    for flag in command if isinstance(command, list) else str(command).split():
        if str(flag).startswith("--web.listen-address="):
            ports.add(host_port(str(flag).split("=", 1)[1])[1])
    if COLLECTOR_FILE in mounts:
        ports |= {host_port(e)[1] for e in endpoints(collector()["receivers"])}
    for key, value in dict(service.get("environment", {})).items():
        if key.endswith(("_HOST_PORT", "_HTTP_PORT")):
            ports.add(int(str(value).rsplit(":", 1)[-1]))
    return ports


def image_of(service_name: str) -> str:
    return str(services()[service_name]["image"])


def depends_on(service: dict[str, Any]) -> set[str]:
    deps = service.get("depends_on", [])
    return set(deps) if isinstance(deps, (list, dict)) else set()


def one_shot_services() -> set[str]:
    """Services others wait for to *complete* (init containers), not long-running backends."""
    return {
        dep
        for svc in services().values()
        if isinstance(svc.get("depends_on"), dict)
        for dep, cond in svc["depends_on"].items()
        if (cond or {}).get("condition") == "service_completed_successfully"
    }


def collector_receiver_ports() -> set[int]:
    return {host_port(e)[1] for e in endpoints(collector()["receivers"])}


def otlp_exporters() -> dict[str, dict[str, Any]]:
    """The collector's OTLP exporters, gRPC (``otlp``) and HTTP (``otlphttp``)."""
    return {
        name: cfg
        for name, cfg in collector()["exporters"].items()
        if component_type(name) in ("otlp", "otlphttp")
    }


def pipeline_targets(pipeline: str) -> set[str]:
    """The hosts the OTLP exporters of ``pipeline`` send to."""
    exporters = collector()["service"]["pipelines"][pipeline]["exporters"]
    return {
        host_port(otlp_exporters()[e]["endpoint"])[0] for e in exporters if e in otlp_exporters()
    }


def backends(*words: str) -> set[str]:
    """Long-running compose services whose image names one of ``words``."""
    return {
        name
        for name in services()
        if name not in one_shot_services()
        if any(word in image_of(name) for word in words)
    }


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_yaml_parses_to_a_mapping(path: Path) -> None:
    assert isinstance(load(path.name), dict)


def test_expected_files_exist() -> None:
    for name in (
        COLLECTOR_FILE,
        TEMPO_FILE,
        LOKI_FILE,
        PROMETHEUS_FILE,
        DATASOURCES_FILE,
        COMPOSE_FILE,
        "README.md",
    ):
        assert (CONFIG_DIR / name).is_file(), name


# --------------------------------------------------------------------------- collector


def test_pipeline_components_are_defined() -> None:
    config = collector()
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics", "logs"} <= set(pipelines)
    for pipeline_name, pipeline in pipelines.items():
        assert pipeline.get("receivers") and pipeline.get("exporters"), pipeline_name
        for kind in COMPONENT_KINDS:
            for component in pipeline.get(kind, []):
                assert component in (config.get(kind) or {}), (
                    f"pipeline {pipeline_name!r} uses {kind[:-1]} {component!r}, not defined"
                )
    for extension in config["service"].get("extensions", []):
        assert extension in (config.get("extensions") or {}), extension


def test_every_defined_component_is_used() -> None:
    config = collector()
    pipelines = config["service"]["pipelines"].values()
    for kind in COMPONENT_KINDS:
        used = {c for p in pipelines for c in p.get(kind, [])}
        assert set(config.get(kind) or {}) <= used, f"unused {kind}: {set(config[kind]) - used}"
    assert set(config.get("extensions") or {}) <= set(config["service"].get("extensions", []))


def test_memory_limiter_first_then_batch() -> None:
    for name, pipeline in collector()["service"]["pipelines"].items():
        types = [component_type(p) for p in pipeline.get("processors", [])]
        assert "memory_limiter" in types and "batch" in types, name
        assert types[0] == "memory_limiter", f"{name}: memory_limiter must come first: {types}"
        assert types.index("memory_limiter") < types.index("batch"), name


def test_receivers_listen_on_all_interfaces_on_the_otlp_ports() -> None:
    otlp = collector()["receivers"]["otlp"]["protocols"]
    assert {"grpc", "http"} <= set(otlp)
    addresses = {proto: host_port(cfg["endpoint"]) for proto, cfg in otlp.items()}
    assert all(host == "0.0.0.0" for host, _ in addresses.values()), addresses
    assert (addresses["grpc"][1], addresses["http"][1]) == (4317, 4318)  # the OTLP defaults


def test_traces_fan_out_to_jaeger_and_tempo() -> None:
    exporters = collector()["service"]["pipelines"]["traces"]["exporters"]
    assert backends("jaeger", "tempo") == {"jaeger", "tempo"}
    assert pipeline_targets("traces") == {"jaeger", "tempo"}
    assert any(component_type(e) == "debug" for e in exporters)


def test_metrics_go_to_prometheus_over_otlp() -> None:
    assert backends("prometheus") == {"prometheus"}
    assert pipeline_targets("metrics") == {"prometheus"}
    exporters = collector()["service"]["pipelines"]["metrics"]["exporters"]
    (name,) = [e for e in exporters if e in otlp_exporters()]
    assert component_type(name) == "otlphttp"  # Prometheus ingests OTLP over HTTP only
    assert urlsplit(otlp_exporters()[name]["endpoint"]).path == "/api/v1/otlp"
    assert "--web.enable-otlp-receiver" in services()["prometheus"]["command"]
    assert any(component_type(e) == "debug" for e in exporters)


def test_logs_go_to_loki_over_otlp() -> None:
    assert backends("loki") == {"loki"}
    assert pipeline_targets("logs") == {"loki"}
    exporters = collector()["service"]["pipelines"]["logs"]["exporters"]
    (name,) = [e for e in exporters if e in otlp_exporters()]
    assert component_type(name) == "otlphttp"
    assert urlsplit(otlp_exporters()[name]["endpoint"]).path == "/otlp"
    # trace and span ids of OTLP log records are kept as structured metadata
    assert load(LOKI_FILE)["limits_config"]["allow_structured_metadata"] is True
    assert any(component_type(e) == "debug" for e in exporters)


def test_prometheus_and_loki_read_their_mounted_configs() -> None:
    prometheus = services()[service_mounting(PROMETHEUS_FILE)]
    target = bind_mounts(prometheus)[PROMETHEUS_FILE]
    assert f"--config.file={target}" in prometheus["command"]
    assert "prometheus" in image_of(service_mounting(PROMETHEUS_FILE))
    loki = services()[service_mounting(LOKI_FILE)]
    assert f"-config.file={bind_mounts(loki)[LOKI_FILE]}" in loki["command"]
    assert "loki" in image_of(service_mounting(LOKI_FILE))


# --------------------------------------------------------------------------- cross-file ports


def test_compose_publishes_the_collector_receiver_ports() -> None:
    name = service_mounting(COLLECTOR_FILE)
    published = published_ports(services()[name])
    for port in collector_receiver_ports():
        assert published.get(port) == port, f"{name} must publish {port}:{port}: {published}"


def test_collector_command_reads_the_mounted_config() -> None:
    name = service_mounting(COLLECTOR_FILE)
    target = bind_mounts(services()[name])[COLLECTOR_FILE]
    assert f"--config={target}" in services()[name]["command"]


def test_exporter_targets_are_compose_services_listening_there() -> None:
    collector_service = services()[service_mounting(COLLECTOR_FILE)]
    for exporter_name, cfg in otlp_exporters().items():
        host, port = host_port(cfg["endpoint"])
        assert host in services(), f"{exporter_name}: {host!r} is not a compose service"
        assert port in listen_ports(host), (
            f"{exporter_name}: {host} does not listen on {port} ({sorted(listen_ports(host))})"
        )
        assert port in declared_container_ports(services()[host]), (
            f"{exporter_name}: compose should expose {port} on {host}"
        )
        assert cfg.get("tls", {}).get("insecure") is True, exporter_name
        assert host in depends_on(collector_service), f"collector should depend on {host}"


def test_tempo_receives_otlp_grpc_on_all_interfaces() -> None:
    grpc = load(TEMPO_FILE)["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]
    host, _ = host_port(grpc["endpoint"])
    assert host == "0.0.0.0"
    storage = load(TEMPO_FILE)["storage"]["trace"]
    assert storage["backend"] == "local" and storage["local"]["path"]


def test_tempo_command_reads_the_mounted_config() -> None:
    name = service_mounting(TEMPO_FILE)
    target = bind_mounts(services()[name])[TEMPO_FILE]
    assert f"-config.file={target}" in services()[name]["command"]


def test_jaeger_accepts_otlp() -> None:
    env = services()["jaeger"]["environment"]
    assert str(env["COLLECTOR_OTLP_ENABLED"]).lower() == "true"


# --------------------------------------------------------------------------- grafana


def test_grafana_provisions_the_datasources_file() -> None:
    name = service_mounting(DATASOURCES_FILE)
    target = bind_mounts(services()[name])[DATASOURCES_FILE]
    assert target.startswith("/etc/grafana/provisioning/datasources/")
    assert "grafana" in image_of(name)


def test_grafana_is_anonymous_admin() -> None:
    env = services()[service_mounting(DATASOURCES_FILE)]["environment"]
    assert str(env["GF_AUTH_ANONYMOUS_ENABLED"]).lower() == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Admin"


def test_tempo_datasource_points_at_tempo_query_port() -> None:
    sources = {s["uid"]: s for s in load(DATASOURCES_FILE)["datasources"]}
    tempo = sources["tempo"]
    assert tempo["type"] == "tempo"
    host, port = host_port(tempo["url"])
    assert host == service_mounting(TEMPO_FILE)
    assert port == int(load(TEMPO_FILE)["server"]["http_listen_port"])
    assert port in declared_container_ports(services()[host])


def test_grafana_reads_traces_logs_and_metrics() -> None:
    types = {s["uid"]: s["type"] for s in load(DATASOURCES_FILE)["datasources"]}
    assert {"tempo", "jaeger", "loki", "prometheus"} <= set(types.values())
    by_type = {kind: uid for uid, kind in types.items()}
    for kind, words in (("loki", ("loki",)), ("prometheus", ("prometheus",))):
        source = next(s for s in load(DATASOURCES_FILE)["datasources"] if s["type"] == kind)
        assert host_port(source["url"])[0] in backends(*words)
    assert by_type["tempo"] == "tempo"


def test_datasource_links_name_existing_datasources() -> None:
    """Trace to logs and metrics, log and exemplar back to trace: each link names a uid that
    is provisioned, of the right type."""
    sources = {s["uid"]: s for s in load(DATASOURCES_FILE)["datasources"]}
    tempo = sources["tempo"]["jsonData"]
    assert sources[tempo["tracesToLogsV2"]["datasourceUid"]]["type"] == "loki"
    assert tempo["tracesToLogsV2"]["filterByTraceID"] is True
    assert sources[tempo["tracesToMetrics"]["datasourceUid"]]["type"] == "prometheus"
    for query in tempo["tracesToMetrics"]["queries"]:
        assert "runnable_run_duration_seconds_bucket" in query["query"]  # the OTLP translation
    links = [
        *(
            f["datasourceUid"]
            for s in sources.values()
            for f in s.get("jsonData", {}).get("derivedFields", [])
        ),
        *(
            d["datasourceUid"]
            for s in sources.values()
            for d in s.get("jsonData", {}).get("exemplarTraceIdDestinations", [])
        ),
    ]
    assert links and all(sources[uid]["type"] == "tempo" for uid in links)


def test_every_datasource_points_at_a_listening_service() -> None:
    grafana = service_mounting(DATASOURCES_FILE)
    for source in load(DATASOURCES_FILE)["datasources"]:
        host, port = host_port(source["url"])
        assert host in services(), source["name"]
        assert port in listen_ports(host), f"{source['name']}: {host} not listening on {port}"
        assert host in depends_on(services()[grafana]), f"grafana should depend on {host}"


# --------------------------------------------------------------------------- compose hygiene


def test_bind_mount_sources_exist() -> None:
    for name, svc in services().items():
        for source in bind_mounts(svc):
            assert (CONFIG_DIR / source).is_file(), f"{name} mounts missing ./{source}"


def test_named_volumes_are_declared() -> None:
    declared = set(load(COMPOSE_FILE).get("volumes") or {})
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source!r}"


def test_depends_on_refers_to_services() -> None:
    for name, svc in services().items():
        assert depends_on(svc) <= set(services()), name


def test_no_two_services_publish_the_same_host_port() -> None:
    seen: dict[int, str] = {}
    for name, svc in services().items():
        for host in published_ports(svc).values():
            assert host not in seen, f"host port {host} published by {seen[host]} and {name}"
            seen[host] = name


def test_images_are_pinned() -> None:
    for name in services():
        image = image_of(name)
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image!r}"


# --------------------------------------------------------------------------- README


def test_readme_documents_the_running_stack() -> None:
    readme = (CONFIG_DIR / "README.md").read_text(encoding="utf-8")
    assert f"docker compose -f {CONFIG_DIR.name}/{COMPOSE_FILE} up" in readme
    for port in collector_receiver_ports():
        assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:{port}" in readme
    for name, svc in services().items():
        for port in published_ports(svc).values():
            assert f"http://localhost:{port}" in readme, f"README: where is {name} on :{port}?"
    assert re.search(r"cannot run containers", readme, re.IGNORECASE)
