"""The plugin manager: built-ins and entry-point plugins, loaded lazily and once.

Every hook is called through pluggy (``get_plugin_manager().hook.<name>(...)``), so hook
wrappers work. fieldkit watches the calls with pluggy's ``add_hookcall_monitoring``:

* an exception raised by a plugin becomes a :class:`~fieldkit.core.errors.PluginError` naming
  the plugin (found in the exception's traceback: the frame running one of the hook's
  implementations) and the hook; a :class:`~fieldkit.core.errors.Refused` raised on purpose
  becomes a ``PluginRefused`` with the plugin's own message;
* a hook call slower than ``FIELDKIT_SLOW_PLUGIN_SECONDS`` (default 2) prints one warning
  naming the hook and its plugins;
* ``FIELDKIT_TRACE_PLUGINS=1`` prints every call, its plugins and its result to stderr.

Entry points of the ``fieldkit`` group load one at a time: one that fails to import or to
register is named in a warning and skipped while the others load (``fieldkit plugins``
lists it with its error). ``FIELDKIT_LOAD_PLUGINS`` (comma-separated entry-point names)
limits which load; set it to an empty string to load none.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import pluggy

from fieldkit.core import environment
from fieldkit.core.errors import PluginError, PluginRefused, Refused

ENTRY_POINT_GROUP = "fieldkit"
TRACE_VARIABLE = "FIELDKIT_TRACE_PLUGINS"
SLOW_VARIABLE = "FIELDKIT_SLOW_PLUGIN_SECONDS"

_pm: Optional["FieldkitPluginManager"] = None
_lock = threading.Lock()


class FieldkitPluginManager(pluggy.PluginManager):
    """pluggy's manager, plus what fieldkit reports about plugins.

    ``failed`` maps the name of each entry point that was skipped to the reason;
    ``packages`` maps a plugin name to the distribution (``name version``) it came from.
    ``FIELDKIT_TRACE_PLUGINS`` and ``FIELDKIT_SLOW_PLUGIN_SECONDS`` are read when it is made.
    """

    def __init__(self) -> None:
        super().__init__("fieldkit")
        self.failed: dict[str, str] = {}
        #: plugin name -> the distribution it came from; its metadata is read only when asked
        self._dists: dict[str, Any] = {}
        self._calls = threading.local()
        self._slow_reported: set[str] = set()
        # read once: the bulk write path calls hooks for every record
        self.tracing = environment.flag(TRACE_VARIABLE)
        self.slow_limit = environment.slow_plugin_seconds()
        self.add_hookcall_monitoring(self._before_call, self._after_call)

    @property
    def packages(self) -> dict[str, str]:
        """Plugin name -> ``name version`` of its distribution (loading a plugin does not read
        the distribution's metadata; this does)."""
        return {name: _package(dist) for name, dist in self._dists.items()}

    # -- monitoring ---------------------------------------------------------------------
    def _before_call(self, hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        starts = getattr(self._calls, "starts", None)
        if starts is None:
            starts = self._calls.starts = []
        starts.append(time.perf_counter())

    def _after_call(self, outcome: pluggy.Result, hook_name: str, hook_impls: Sequence[pluggy.HookImpl],
                    kwargs: Mapping[str, Any]) -> None:
        elapsed = time.perf_counter() - self._calls.starts.pop()
        tracing = self.tracing
        error = outcome.exception
        if error is None:
            problem = _check_result(hook_name, hook_impls, outcome.get_result())
            if problem is not None:
                outcome.force_exception(problem)
        else:
            named = _named_failure(error, hook_name, hook_impls)
            if tracing:
                who = getattr(named, "plugin", None) or _plugin_list(hook_impls)
                _trace(hook_name, who, f"raised {type(error).__name__}: {error}")
            if named is not error:
                outcome.force_exception(named)
        if tracing and error is None and not getattr(kwargs.get("register"), "per_plugin_trace", False):
            # _collect traces its registration hooks per plugin, with what each registered
            _trace(hook_name, _plugin_list(hook_impls), repr(outcome.get_result()))
        if elapsed > self.slow_limit and hook_name not in self._slow_reported:
            self._slow_reported.add(hook_name)
            print(f"fieldkit: {hook_name} took {elapsed:.1f} s in plugin(s) {_plugin_list(hook_impls)} "
                  f"(over {SLOW_VARIABLE}={self.slow_limit:g}; later slow calls are not reported); "
                  "FIELDKIT_LOAD_PLUGINS can switch installed plugins off", file=sys.stderr)


def _plugin_list(hook_impls: Sequence[pluggy.HookImpl]) -> str:
    """The plugins of a call in the order pluggy calls them (last registered first)."""
    return ", ".join(impl.plugin_name for impl in reversed(hook_impls)) or "(no plugin)"


def _trace(hook_name: str, plugins: str, shown: str) -> None:
    print(f"fieldkit trace: {hook_name} <- {plugins}: {shown}", file=sys.stderr)


def _code_owners(hook_impls: Iterable[pluggy.HookImpl]) -> dict:
    """The code object of each implementation's function -> the implementations using it
    (several when plugins share code: instances of one class, functions from one factory)."""
    owners: dict = {}
    for impl in hook_impls:
        for function in (impl.function, inspect.unwrap(impl.function)):
            code = getattr(function, "__code__", None)
            if code is not None and impl not in owners.get(code, ()):
                owners.setdefault(code, []).append(impl)
    return owners


def _runs(frame: Any, impl: pluggy.HookImpl) -> bool:
    """Whether ``frame`` is a call of ``impl``'s own function (not of another plugin's copy)."""
    function = impl.function
    owner = getattr(function, "__self__", None)
    code = frame.f_code
    if owner is not None and code.co_argcount:
        return frame.f_locals.get(code.co_varnames[0]) is owner
    cells = getattr(inspect.unwrap(function), "__closure__", None) or ()
    values = frame.f_locals
    return all(values.get(name, cell.cell_contents) is cell.cell_contents
               for name, cell in zip(code.co_freevars, cells))


def _frame_plugin(frame: Any, owners: dict) -> Optional[str]:
    candidates = owners.get(frame.f_code)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0].plugin_name
    for impl in candidates:
        if _runs(frame, impl):
            return impl.plugin_name
    return None


def _plugin_in_traceback(error: BaseException, hook_impls: Sequence[pluggy.HookImpl]) -> Optional[str]:
    """The plugin whose implementation was running where ``error`` was raised: the innermost
    traceback frame that belongs to one of the hook's implementations."""
    owners = _code_owners(hook_impls)
    found = None
    tb = error.__traceback__
    while tb is not None:
        found = _frame_plugin(tb.tb_frame, owners) or found
        tb = tb.tb_next
    return found


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _named_failure(error: BaseException, hook_name: str, hook_impls: Sequence[pluggy.HookImpl]) -> BaseException:
    """The error to raise instead of ``error``: one that names the plugin, when a plugin failed."""
    if isinstance(error, PluginError) or not isinstance(error, Exception):
        return error  # already named by a nested call; or KeyboardInterrupt and the like
    if isinstance(error, pluggy.HookCallError):
        return error  # fieldkit called the hook wrongly: a bug, not the plugin's fault
    plugin = _plugin_in_traceback(error, hook_impls)
    who = plugin or (f"one of {_plugin_list(hook_impls)}" if len(hook_impls) > 1 else _plugin_list(hook_impls))
    if isinstance(error, Refused):
        named: PluginError = PluginRefused(f"{_one_line(error)} (refused by plugin {who} in {hook_name})",
                                           plugin=plugin, hook=hook_name)
    else:
        named = PluginError(f"plugin {who} failed in {hook_name}: {type(error).__name__}: {_one_line(error)}",
                            plugin=plugin, hook=hook_name)
    named.__cause__ = error
    return named


def _is_problem_list(result: Any) -> bool:
    if not result and result.__class__ in (list, tuple):
        return True  # the usual answer: nothing to say
    return isinstance(result, (list, tuple)) and all(isinstance(p, str) for p in result)


#: hooks whose results fieldkit uses: a check of each result and what it should have been
RESULT_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "validate_record": (_is_problem_list, "a list of strings"),
    "capture_record": (lambda r: isinstance(r, dict) and all(isinstance(k, str) for k in r),
                       "a dict of field names to new values"),
}


def _check_result(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], results: Any) -> Optional[PluginError]:
    check = RESULT_CHECKS.get(hook_name)
    if check is None:
        return None
    valid, expected = check
    if all(map(valid, results)):
        return None
    answering = [impl for impl in reversed(hook_impls) if not (impl.wrapper or impl.hookwrapper)]
    for index, result in enumerate(results):
        if valid(result):
            continue
        # pluggy leaves out None results, so the position names the plugin only when none was left out
        if len(results) == len(answering):
            plugin: Optional[str] = answering[index].plugin_name
            who = plugin
        else:
            plugin, who = None, f"one of {_plugin_list(hook_impls)}"
        return PluginError(f"plugin {who} returned {type(result).__name__} from {hook_name}; expected {expected}",
                           plugin=plugin, hook=hook_name)
    return None


# --------------------------------------------------------------------------- loading


def get_plugin_manager() -> FieldkitPluginManager:
    """The process-wide plugin manager, created and loaded on first use."""
    global _pm
    if _pm is None:
        with _lock:
            if _pm is None:
                _pm = _create()
    return _pm


def reset() -> None:
    """Forget the loaded plugin manager (tests use this to change the environment)."""
    global _pm
    _pm = None


def _create() -> FieldkitPluginManager:
    import importlib

    from fieldkit.hooks import specs
    from fieldkit.plugins import BUILTINS

    pm = FieldkitPluginManager()
    pm.add_hookspecs(specs)
    for name in BUILTINS:
        pm.register(importlib.import_module(name), name=name)
    _load_entry_points(pm)
    return pm


def _load_entry_points(pm: FieldkitPluginManager) -> None:
    """Register each ``fieldkit`` entry point on its own: a broken one is skipped and named."""
    from importlib.metadata import entry_points

    wanted = environment.names("FIELDKIT_LOAD_PLUGINS")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (wanted is not None and ep.name not in wanted) or pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        if dist is not None:
            pm._dists[ep.name] = dist
        try:
            plugin = ep.load()
        except Exception as exc:  # any failure in a plugin's import: skip it, keep the others
            _skip(pm, ep.name, dist, f"failed to load: {type(exc).__name__}: {_one_line(exc)}")
            continue
        try:
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # pluggy's validation, or the same object under two names
            _skip(pm, ep.name, dist, f"cannot be registered: {_one_line(exc)}")
            continue
        unknown = _unknown_hooks(pm, plugin)
        if unknown:
            pm.unregister(plugin)
            _skip(pm, ep.name, dist, f"implements hooks fieldkit does not have: {', '.join(unknown)}")
            continue


def _unknown_hooks(pm: FieldkitPluginManager, plugin: object) -> list[str]:
    """Hook names ``plugin`` implements that have no spec (a typo would otherwise never run)."""
    unknown = []
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.has_spec():
            continue
        if any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls()):
            unknown.append(caller.name)
    return sorted(unknown)


def _package(dist: Any) -> str:
    return f"{dist.name} {dist.version}"


def _skip(pm: FieldkitPluginManager, name: str, dist: Any, reason: str) -> None:
    pm.failed[name] = reason
    package = _package(dist) if dist is not None else None
    print(f"fieldkit: plugin {name}{f' ({package})' if package else ''} {reason}; skipped "
          "(the other plugins are loaded)", file=sys.stderr)


# --------------------------------------------------------------------------- registries


def _calling_plugin(owners: dict) -> Optional[str]:
    """The plugin whose hook implementation is calling the function that calls this."""
    frame: Optional[Any] = sys._getframe(2)
    while frame is not None:
        plugin = _frame_plugin(frame, owners)
        if plugin is not None:
            return plugin
        frame = frame.f_back
    return None


def _collect(hook_name: str, kind: type, caller: Optional[pluggy.HookCaller] = None) -> dict[str, tuple[str, Any]]:
    """Call a ``register_*`` hook through pluggy; returns ``{name: (plugin, item)}``.

    The plugin behind each ``register(item)`` is the one whose implementation is on the
    call stack, so a wrong type or a name registered twice is reported naming it.
    """
    pm = get_plugin_manager()
    caller = caller if caller is not None else getattr(pm.hook, hook_name)
    impls = caller.get_hookimpls()
    owners = _code_owners(impls)
    found: dict[str, tuple[str, Any]] = {}

    def register(item: Any) -> None:
        plugin = _calling_plugin(owners) or "(unknown)"
        if not isinstance(item, kind):
            raise PluginError(f"plugin {plugin} registered {type(item).__name__} in {hook_name}; "
                              f"expected {kind.__name__}", plugin=plugin, hook=hook_name)
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name.strip():
            raise PluginError(f"plugin {plugin} registered a {kind.__name__} without a name in {hook_name}",
                              plugin=plugin, hook=hook_name)
        if name in found:
            raise PluginError(f"plugin {plugin} registered {kind.__name__.lower()} '{name}' that "
                              f"{found[name][0]} already registered", plugin=plugin, hook=hook_name)
        found[name] = (plugin, item)

    register.per_plugin_trace = True  # type: ignore[attr-defined]
    caller(register=register)
    if pm.tracing:
        for impl in reversed(impls):
            names = [name for name, (plugin, _) in found.items() if plugin == impl.plugin_name]
            _trace(hook_name, impl.plugin_name, repr(names))
    return found


def _registered(hook_name: str, kind: type) -> dict[str, Any]:
    return {name: item for name, (plugin, item) in _collect(hook_name, kind).items()}


def exporters() -> dict[str, Any]:
    """Every registered exporter by name (``register_exporters``)."""
    from fieldkit.hooks.registry import Exporter

    return _registered("register_exporters", Exporter)


def importers() -> dict[str, Any]:
    """Every registered importer by name (``register_importers``)."""
    from fieldkit.hooks.registry import Importer

    return _registered("register_importers", Importer)


def detectors() -> dict[str, Any]:
    """Every registered anonymisation detector by name (``register_detectors``)."""
    from fieldkit.hooks.registry import Detector

    return _registered("register_detectors", Detector)


def coders() -> dict[str, Any]:
    """Every registered auto-coder by name (``register_coders``)."""
    from fieldkit.hooks.registry import Coder

    return _registered("register_coders", Coder)


def codebooks() -> dict[str, Any]:
    """Every registered codebook by name (``register_codebooks``)."""
    from fieldkit.hooks.registry import Codebook

    return _registered("register_codebooks", Codebook)


def _registries() -> list[tuple[str, type]]:
    from fieldkit.hooks.registry import Codebook, Coder, Detector, Exporter, Importer

    return [("register_exporters", Exporter), ("register_importers", Importer), ("register_detectors", Detector),
            ("register_coders", Coder), ("register_codebooks", Codebook)]


def _collect_around_failures(pm: FieldkitPluginManager, hook_name: str, kind: type,
                             errors: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """Like :func:`_collect`, but a plugin that fails is noted in ``errors`` and the hook is
    called again without it (through ``pm.subset_hook_caller``), so one broken plugin does
    not hide what the others provide."""
    left_out: list = []
    caller = getattr(pm.hook, hook_name)
    while True:
        try:
            return _collect(hook_name, kind, caller)
        except PluginError as exc:
            plugin = pm.get_plugin(exc.plugin) if exc.plugin else None
            if exc.plugin is None or plugin is None or plugin in left_out:
                errors.setdefault(exc.plugin or "(unknown)", str(exc))
                return {}
            errors.setdefault(exc.plugin, str(exc))
            left_out.append(plugin)
            caller = pm.subset_hook_caller(hook_name, left_out)


def plugin_rows() -> list[dict]:
    """One row per plugin: name, whether built in, the hooks it implements, what it
    registered, its package, and ``error`` (why it failed or was skipped, else None)."""
    from fieldkit.plugins import BUILTINS

    pm = get_plugin_manager()
    errors: dict[str, str] = {}
    provides: dict[str, list[str]] = {}
    for hook_name, kind in _registries():
        label = hook_name.split("_", 1)[1][:-1]
        for name, (plugin, _item) in _collect_around_failures(pm, hook_name, kind, errors).items():
            provides.setdefault(plugin, []).append(f"{label}:{name}")
    packages = pm.packages
    rows = []
    for name, registered in sorted(pm.list_name_plugin(), key=lambda np: (np[0] not in BUILTINS, np[0])):
        if registered is None:  # blocked
            continue
        rows.append({
            "name": name,
            "builtin": name in BUILTINS,
            "hooks": sorted(caller.name for caller in pm.get_hookcallers(registered) or ()),
            "provides": provides.get(name, []),
            "package": packages.get(name),
            "error": errors.get(name),
        })
    for name, reason in sorted(pm.failed.items()):
        rows.append({"name": name, "builtin": False, "hooks": [], "provides": [],
                     "package": packages.get(name), "error": reason})
    return rows
