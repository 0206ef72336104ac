"""The plugin manager: built-ins and entry-point plugins, loaded lazily and once.

``FIELDKIT_LOAD_PLUGINS`` (comma-separated entry-point names) limits which external
plugins load; set it to an empty string to load none. ``FIELDKIT_TRACE_PLUGINS=1`` prints
every hook call, its plugin and its result to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time

from fieldkit.core.errors import PluginError

_pm = None
_lock = threading.Lock()


def get_plugin_manager():
    """The process-wide plugin manager, created and loaded on first use."""
    global _pm
    if _pm is None:
        with _lock:
            if _pm is None:
                _pm = _create()
    return _pm


def _create():
    import pluggy

    from fieldkit.hooks import specs as hookspecs
    from fieldkit.plugins import BUILTINS

    class PluginManager(pluggy.PluginManager):
        def register(self, plugin, name=None):
            name = super().register(plugin, name)
            if name is not None:
                _guard(self, plugin)
            return name

    pm = PluginManager("fieldkit")
    pm.add_hookspecs(hookspecs)
    for name in BUILTINS:
        module = importlib.import_module(name)
        pm.register(module, name=name)
    _load_entry_points(pm)
    return pm


def _guard(pm, plugin) -> None:
    """Wrap a newly registered plugin's hook implementations so that however a hook is
    called (``pm.hook.<name>(...)``), a failure names the plugin, a wrong result is refused,
    slowness is reported and ``FIELDKIT_TRACE_PLUGINS`` traces each call."""
    for caller in pm.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                impl.function = _guarded(impl.function, impl.plugin_name, caller.name)


def _problem_list(result) -> bool:
    return not isinstance(result, str) and all(isinstance(p, str) for p in result)


#: hook -> (check of a result, what the hook should return)
_RESULTS = {"validate_record": (_problem_list, "a list of strings")}


def _guarded(function, plugin: str, hook: str):
    import functools

    check, expected = _RESULTS.get(hook, (None, ""))

    @functools.wraps(function)
    def call(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = function(*args, **kwargs)
        except PluginError as exc:
            _trace(plugin, hook, None, error=exc)
            raise
        except Exception as exc:
            _trace(plugin, hook, None, error=exc)
            raise PluginError(f"plugin {plugin} failed in {hook}: {type(exc).__name__}: {exc}") from exc
        elapsed = time.perf_counter() - started
        if elapsed > _slow_limit():
            print(f"fieldkit: plugin {plugin} is slow in {hook} ({elapsed:.1f} s); "
                  "FIELDKIT_LOAD_PLUGINS can switch it off", file=sys.stderr)
        _trace(plugin, hook, result)
        if check is not None and result is not None and not check(result):
            raise PluginError(f"plugin {plugin} returned {type(result).__name__} from {hook}; expected {expected}")
        return result

    return call


def _load_entry_points(pm):
    allowed = os.environ.get("FIELDKIT_LOAD_PLUGINS")
    if allowed is None:
        try:
            pm.load_setuptools_entrypoints("fieldkit")
        except Exception as exc:  # a broken install must not stop fieldkit
            print(f"fieldkit: a plugin failed to load: {exc}", file=sys.stderr)
        return
    from importlib.metadata import entry_points

    wanted = {name.strip() for name in allowed.split(",") if name.strip()}
    for ep in entry_points(group="fieldkit"):
        if ep.name in wanted and not pm.has_plugin(ep.name):
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:
                print(f"fieldkit: plugin {ep.name} failed to load: {exc}", file=sys.stderr)


def reset():
    """Forget the loaded plugin manager (tests use this to change the environment)."""
    global _pm
    _pm = None


def _trace(plugin, hook, result, *, error=None):
    if os.environ.get("FIELDKIT_TRACE_PLUGINS"):
        shown = f"raised {type(error).__name__}: {error}" if error is not None else repr(result)
        print(f"fieldkit trace: {hook} <- {plugin}: {shown}", file=sys.stderr)


SLOW_SECONDS = 2.0


def _slow_limit() -> float:
    return float(os.environ.get("FIELDKIT_SLOW_PLUGIN_SECONDS", SLOW_SECONDS))


def _run_impl(impl, hook: str, kwargs: dict):
    """Call one plugin's hook implementation (guarded: see ``_guard``)."""
    return impl.function(**{arg: kwargs[arg] for arg in impl.argnames})


def hook_caller(name: str):
    """A callable for one hook, its implementations looked up once (bulk writes call it a lot)."""
    impls = list(reversed(getattr(get_plugin_manager().hook, name).get_hookimpls()))

    def call(**kwargs) -> list:
        return [result for impl in impls if (result := _run_impl(impl, name, kwargs)) is not None]

    call.active = bool(impls)
    return call


def call_hook(name: str, **kwargs) -> list:
    """Call every implementation of a hook, naming the plugin when one fails."""
    return hook_caller(name)(**kwargs)


def _collect(hook_name: str, kind) -> dict:
    """Run a ``register_*`` hook and return what was registered, by name."""
    found: dict = {}
    pm = get_plugin_manager()
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        def register(item, _plugin=impl.plugin_name):
            if not isinstance(item, kind):
                raise PluginError(
                    f"plugin {_plugin} registered {type(item).__name__} in {hook_name}; expected {kind.__name__}"
                )
            if item.name in found:
                raise PluginError(
                    f"plugin {_plugin} registered {kind.__name__.lower()} '{item.name}' that {found[item.name][0]} already registered"
                )
            found[item.name] = (_plugin, item)

        _run_impl(impl, hook_name, {"register": register})
        # the result of a register_* hook is the names it registered (possibly none)
        _trace(impl.plugin_name, hook_name, [n for n, (p, _) in found.items() if p == impl.plugin_name])
    return {name: item for name, (plugin, item) in found.items()}


def exporters() -> dict:
    from fieldkit.hooks.registry import Exporter

    return _collect("register_exporters", Exporter)


def importers() -> dict:
    from fieldkit.hooks.registry import Importer

    return _collect("register_importers", Importer)


def detectors() -> dict:
    from fieldkit.hooks.registry import Detector

    return _collect("register_detectors", Detector)


def coders() -> dict:
    from fieldkit.hooks.registry import Coder

    return _collect("register_coders", Coder)


def codebooks() -> dict:
    from fieldkit.hooks.registry import Codebook

    return _collect("register_codebooks", Codebook)


def plugin_rows() -> list[dict]:
    """One row per loaded plugin: name, whether built in, hooks it implements, what it registered."""
    pm = get_plugin_manager()
    from fieldkit.plugins import BUILTINS
    from fieldkit.hooks.registry import Codebook, Coder, Detector, Exporter, Importer

    contributions: dict = {}
    for hook, kind in (("register_exporters", Exporter), ("register_importers", Importer),
                       ("register_detectors", Detector), ("register_coders", Coder),
                       ("register_codebooks", Codebook)):
        for impl in getattr(pm.hook, hook).get_hookimpls():
            items = []
            impl.function(register=items.append)
            _trace(impl.plugin_name, hook, [getattr(i, "name", i) for i in items])
            contributions.setdefault(impl.plugin_name, []).extend(
                f"{hook.split('_', 1)[1][:-1]}:{getattr(i, 'name', i)}" for i in items
            )
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda np: (np[0] not in BUILTINS, np[0])):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        dist = None
        for plugin_obj, d in pm.list_plugin_distinfo():
            if plugin_obj is plugin:
                dist = f"{d.project_name} {d.version}"
        rows.append({
            "name": name,
            "builtin": name in BUILTINS,
            "hooks": hooks,
            "provides": contributions.get(name, []),
            "package": dist,
        })
    return rows
