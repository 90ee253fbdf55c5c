// The Python program that reads rxconfig.py for rxroute (see rxconfig.ts).
// A TS string so the bundler inlines it into the binary; it runs as
// `python -I -S -c READER` with {source, env} as JSON on stdin.
// Keep it free of backticks and dollar-brace (it sits in a template literal).
export const RXCONFIG_READER = String.raw`
# Reads rxconfig.py for rxroute without running it (DESIGN section 10).
# stdin: {"source": <rxconfig.py text>, "env": {NAME: value}}; stdout: one JSON
# object. Python 3.8+: no match statements, no ast.unparse.
import ast
import json
import sys

WANTED = ("frontend_port", "backend_port", "frontend_path", "api_url")
PLUGIN_KEYS = (("profile",), ("proxy", "server"), ("proxy", "separate_dev_ports"))
BLOCKS = {
    "If": "an if block", "For": "a for loop", "While": "a while loop",
    "With": "a with block", "Try": "a try block",
}
MAX_DEPTH = 40


class Skip(Exception):
    pass


def segment(source, node):
    text = ast.get_source_segment(source, node) or type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else base + "." + node.attr
    return None


def stored_names(node):
    """Names a statement binds at module scope (not inside def, class or lambda bodies)."""
    names = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(n.name)
            continue
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return names


class Reader:
    def __init__(self, tree, source, env):
        self.source = source
        self.env = env
        self.depth = 0
        # name -> [(line, value node or None, why not followed)], in source order
        self.bindings = {}
        self.os_names = {"os"}
        self.getenv_names = set()
        self.environ_names = set()
        for stmt in tree.body:
            self.scan(stmt)

    def bind(self, name, line, node, why=None):
        self.bindings.setdefault(name, []).append((line, node, why))

    def scan(self, stmt):
        line = stmt.lineno
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.name == "os" or (a.asname is None and a.name.startswith("os.")):
                    self.os_names.add(a.asname or "os")
                else:
                    self.bind((a.asname or a.name).split(".")[0], line, None, "is an imported module")
        elif isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                name = a.asname or a.name
                if stmt.module == "os" and a.name == "getenv":
                    self.getenv_names.add(name)
                elif stmt.module == "os" and a.name == "environ":
                    self.environ_names.add(name)
                else:
                    self.bind(name, line, None, "is imported")
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.bind(target.id, line, stmt.value)
                else:
                    for name in stored_names(target):
                        self.bind(name, line, None, "is assigned by unpacking")
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is not None:
                self.bind(stmt.target.id, line, stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            self.bind(stmt.target.id, line, None, "is changed with " + type(stmt.op).__name__.lower() + "-assignment")
        else:
            where = BLOCKS.get(type(stmt).__name__, "a " + type(stmt).__name__.lower() + " statement")
            for name in stored_names(stmt):
                self.bind(name, line, None, "is assigned in " + where)

    def lookup_node(self, name, before):
        found = [b for b in self.bindings.get(name, []) if b[0] < before]
        if not found:
            raise Skip("not a literal or env lookup: " + name + " is not assigned at module level")
        line, node, why = found[-1]
        if node is None:
            raise Skip("not a literal or env lookup: " + name + " " + why)
        return line, node

    def value(self, node, before):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Skip("nested too deeply")
            return self.evaluate(node, before)
        finally:
            self.depth -= 1

    def evaluate(self, node, before):
        if isinstance(node, ast.Constant):
            v = node.value
            if v is None or isinstance(v, (bool, int, float, str)):
                return v
            raise Skip("not a literal or env lookup: " + segment(self.source, node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand, before)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v if isinstance(node.op, ast.USub) else v
        elif isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e, before) for e in node.elts]
        elif isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    raise Skip("not a literal or env lookup: ** in " + segment(self.source, node))
                key = self.value(k, before)
                if not isinstance(key, str):
                    raise Skip("not a literal or env lookup: a dict key that is not a string")
                out[key] = self.value(v, before)
            return out
        elif isinstance(node, ast.Name):
            line, bound = self.lookup_node(node.id, before)
            return self.value(bound, line)
        elif isinstance(node, ast.JoinedStr):
            return "".join(self.fstring_part(p, before) for p in node.values)
        elif isinstance(node, ast.Call):
            return self.call(node, before)
        elif isinstance(node, ast.Subscript) and self.is_environ(node.value):
            key = self.value(subscript_index(node), before)
            if not isinstance(key, str):
                raise Skip("not a literal or env lookup: " + segment(self.source, node))
            if key not in self.env:
                raise Skip("os.environ[" + json.dumps(key) + "] is not set")
            return self.env[key]
        elif isinstance(node, ast.BoolOp):
            is_or = isinstance(node.op, ast.Or)
            v = None
            for operand in node.values:
                v = self.value(operand, before)
                if bool(v) == is_or:
                    return v
            return v
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            a, b = self.value(node.left, before), self.value(node.right, before)
            if isinstance(a, str) and isinstance(b, str):
                return a + b
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
                return a + b
        raise Skip("not a literal or env lookup: " + segment(self.source, node))

    def fstring_part(self, part, before):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            return part.value
        if isinstance(part, ast.FormattedValue):
            v = self.value(part.value, before)
            if part.conversion == 114:
                v = repr(v)
            elif part.conversion == 97:
                v = ascii(v)
            spec = self.value(part.format_spec, before) if part.format_spec is not None else ""
            try:
                return format(v, spec)
            except (TypeError, ValueError) as e:
                raise Skip("f-string format fails: " + str(e))
        raise Skip("not a literal or env lookup: " + segment(self.source, part))

    def is_environ(self, node):
        if isinstance(node, ast.Name):
            return node.id in self.environ_names
        return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id in self.os_names

    def is_getenv(self, func):
        if isinstance(func, ast.Name):
            return func.id in self.getenv_names
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr == "getenv":
            return isinstance(func.value, ast.Name) and func.value.id in self.os_names
        return func.attr == "get" and self.is_environ(func.value)

    def call(self, node, before):
        name = dotted(node.func)
        if self.is_getenv(node.func):
            args = list(node.args)
            kwargs = dict((k.arg, k.value) for k in node.keywords)
            if "default" in kwargs and len(args) == 1:
                args.append(kwargs.pop("default"))
            if len(args) in (1, 2) and not kwargs:
                key = self.value(args[0], before)
                if isinstance(key, str):
                    if key in self.env:
                        return self.env[key]
                    return self.value(args[1], before) if len(args) == 2 else None
        elif name in ("int", "str") and "int" not in self.bindings and "str" not in self.bindings:
            if not node.keywords and len(node.args) <= 1:
                if not node.args:
                    return 0 if name == "int" else ""
                v = self.value(node.args[0], before)
                if name == "str":
                    return str(v)
                if isinstance(v, (int, float)):
                    return int(v)
                if isinstance(v, str):
                    try:
                        return int(v.strip())
                    except ValueError:
                        raise Skip("int(" + json.dumps(v) + ") is not a number")
                raise Skip("int() of " + repr(v) + " fails")
        raise Skip("not a literal or env lookup: calls " + (name or "a function") + "()")

    def entries(self, node, before):
        """(key, value node, line) of a dict literal, dict(...) call, or a name bound to one."""
        if isinstance(node, ast.Dict):
            out = []
            for k, v in zip(node.keys, node.values):
                if k is not None:
                    key = self.value(k, before)
                    if isinstance(key, str):
                        out.append((key, v))
            return out
        if isinstance(node, ast.Call) and dotted(node.func) == "dict" and not node.args:
            return [(k.arg, k.value) for k in node.keywords if k.arg is not None]
        if isinstance(node, ast.Name):
            line, bound = self.lookup_node(node.id, before)
            return [(k, v) for k, v in self.entries(bound, line)]
        raise Skip("not a literal or env lookup: " + segment(self.source, node))


def subscript_index(node):
    s = node.slice
    # Python 3.8 wraps the index in ast.Index; 3.9+ does not.
    return s.value if type(s).__name__ == "Index" else s


def config_calls(tree):
    """Every rx.Config(...) / Config(...) call, the module-level "config = rx.Config(...)" first."""
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and (
        (isinstance(n.func, ast.Name) and n.func.id == "Config")
        or (isinstance(n.func, ast.Attribute) and n.func.attr == "Config"))), key=lambda c: c.lineno)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "config" for t in stmt.targets):
            if stmt.value in calls:
                calls.remove(stmt.value)
                calls.insert(0, stmt.value)
                break
    return calls


def is_plugin(node):
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return name.endswith("ReflexDjangoPlugin")


def read(reader, tree, out):
    calls = config_calls(tree)
    if not calls:
        out["no_config"] = True
    else:
        call = calls[0]
        out["config_line"] = call.lineno
        out["other_config_lines"] = [c.lineno for c in calls[1:]]
        for kw in call.keywords:
            if kw.arg is None:
                out["skipped"].append({"key": "**" + segment(reader.source, kw.value), "line": kw.value.lineno,
                                       "reason": "rxroute does not follow ** arguments"})
            elif kw.arg in WANTED:
                try:
                    out["values"][kw.arg] = {"value": reader.value(kw.value, call.lineno), "line": kw.value.lineno}
                except Skip as e:
                    out["skipped"].append({"key": kw.arg, "line": kw.value.lineno, "reason": str(e)})
    plugins = sorted((n for n in ast.walk(tree) if is_plugin(n)), key=lambda n: n.lineno)
    if not plugins:
        return
    plugin = plugins[0]
    out["plugin_line"] = plugin.lineno
    arg = next((k.value for k in plugin.keywords if k.arg == "config"), plugin.args[0] if plugin.args else None)
    if arg is None:
        return
    for path in PLUGIN_KEYS:
        label = ".".join(path)
        node, line = arg, plugin.lineno
        try:
            for key in path:
                found = [(v, v.lineno) for k, v in reader.entries(node, plugin.lineno) if k == key]
                if not found:
                    node = None
                    break
                node, line = found[-1]
            if node is not None:
                out["plugin"][label] = {"value": reader.value(node, plugin.lineno), "line": line}
        except Skip as e:
            out["skipped"].append({"key": "ReflexDjangoPlugin " + label, "line": line, "reason": str(e)})


def main():
    data = json.loads(sys.stdin.read())
    source = data["source"]
    out = {"values": {}, "plugin": {}, "skipped": []}
    try:
        tree = ast.parse(source, "rxconfig.py")
    except SyntaxError as e:
        out["syntax_error"] = {"line": e.lineno or 0, "message": e.msg or "invalid syntax"}
    except ValueError as e:
        out["syntax_error"] = {"line": 0, "message": str(e)}
    else:
        read(Reader(tree, source, data.get("env") or {}), tree, out)
    try:
        text = json.dumps(out, allow_nan=False)
    except ValueError:
        text = json.dumps({"error": "a value is not representable as JSON (inf or nan)"})
    sys.stdout.write(text + "\n")


try:
    main()
except Exception as e:  # never a traceback: rxroute turns this into one note
    sys.stdout.write(json.dumps({"error": type(e).__name__ + ": " + str(e)}) + "\n")
`;
