"""Usage: python3 extract-request-types.py types.ts <spec commit> elasticsearch-request-types.json

Extracts the request-body types the store and setup send from elasticsearch-specification's
output/typescript/types.ts into a small JSON type model (see tests/.../Spec/README.md)."""
import json, re, sys

src = open(sys.argv[1]).read()
commit = sys.argv[2]

# --- declarations -------------------------------------------------------------------------------
decls = {}
pat = re.compile(r'^export (interface|type) (\w+)(<[^>]*>)?', re.M)
for m in pat.finditer(src):
    kind, name, generics = m.group(1), m.group(2), m.group(3)
    start = m.end()
    if kind == 'interface':
        ext = []
        rest = src[start:]
        brace = rest.index('{')
        head = rest[:brace]
        em = re.search(r'extends\s+(.*)', head)
        if em:
            ext = em.group(1)
        # body: match braces
        depth = 0; j = brace
        while True:
            c = rest[j]
            if c == '{': depth += 1
            elif c == '}':
                depth -= 1
                if depth == 0: break
            j += 1
        decls[name] = ('interface', ext, rest[brace:j+1], generics)
    else:
        rest = src[start:]
        eq = rest.index('=')
        # expression runs until a blank line followed by 'export' or EOF
        end = rest.find('\n\nexport ', eq)
        expr = rest[eq+1:end if end >= 0 else len(rest)]
        decls[name] = ('type', None, expr.strip(), generics)

# --- type expression parser ------------------------------------------------------------------------
tok_re = re.compile(r"\s*(\.\.\.|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?|\w+|\[\]|[{}()<>\[\]|&,:?;=])")
def tokenize(s):
    s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    out = []; pos = 0
    while pos < len(s):
        m = tok_re.match(s, pos)
        if not m:
            if s[pos:].strip() == '': break
            raise ValueError('bad token at ' + s[pos:pos+40])
        out.append(m.group(1)); pos = m.end()
    return out

class P:
    def __init__(self, toks, params):
        self.t = toks; self.i = 0; self.params = params
    def peek(self): return self.t[self.i] if self.i < len(self.t) else None
    def take(self, v=None):
        x = self.t[self.i]
        if v is not None and x != v: raise ValueError(f'expected {v} got {x} at {self.t[self.i-5:self.i+5]}')
        self.i += 1; return x
    def union(self):
        if self.peek() == '|': self.take()
        parts = [self.inter()]
        while self.peek() == '|':
            self.take(); parts.append(self.inter())
        return parts[0] if len(parts) == 1 else {'union': parts}
    def inter(self):
        parts = [self.postfix()]
        while self.peek() == '&':
            self.take(); parts.append(self.postfix())
        return parts[0] if len(parts) == 1 else {'all': parts}
    def postfix(self):
        t = self.primary()
        while self.peek() == '[]':
            self.take(); t = {'array': t}
        return t
    def primary(self):
        x = self.peek()
        if x == '(':
            self.take(); t = self.union(); self.take(')'); return t
        if x == '{':
            return self.obj()
        if x[0] in "'\"":
            self.take(); return {'literal': x[1:-1]}
        if re.match(r'-?\d', x):
            self.take(); return {'literal': float(x)}
        self.take()
        if self.peek() == '<':
            self.take(); args = [self.union()]
            while self.peek() == ',':
                self.take(); args.append(self.union())
            self.take('>')
            if x in ('Record',): return {'record': args[1]}
            if x == 'Partial': return args[0]
            if x in ('SingleKeyDictionary', 'AdditionalProperty', 'AdditionalProperties'): return {'record': args[-1]}
            return {'ref': x}
        if x in self.params or x in ('any', 'unknown', 'object', 'T', 'TDocument', 'TPartialDocument', 'TDocumentPartial'):
            return {'any': True}
        if x in ('string',): return {'prim': 'string'}
        if x in ('number',): return {'prim': 'number'}
        if x in ('boolean',): return {'prim': 'boolean'}
        if x in ('null', 'undefined'): return {'prim': 'null'}
        if x in ('true', 'false'): return {'literal': x == 'true'}
        return {'ref': x}
    def obj(self):
        self.take('{'); props = {}; extra = None
        while self.peek() != '}':
            if self.peek() == '[':
                self.take('['); self.take(); self.take(':'); self.take(); self.take(']'); self.take(':')
                extra = self.union()
            else:
                name = self.take()
                if name[0] in "'\"": name = name[1:-1]
                opt = False
                if self.peek() == '?': self.take(); opt = True
                self.take(':')
                props[name] = {'type': self.union(), 'required': not opt}
            while self.peek() in (';', ','): self.take()
        self.take('}')
        o = {'object': props}
        if extra is not None: o['extra'] = extra
        return o

def params_of(generics):
    if not generics: return set()
    return {re.sub(r'\s*=.*', '', g).strip() for g in generics[1:-1].split(',')}

model = {}
def define(name):
    if name in model or name not in decls: return
    kind, ext, body, generics = decls[name]
    params = params_of(generics)
    if kind == 'interface':
        t = P(tokenize(body), params).obj()
        if ext:
            t['extends'] = [re.sub(r'<.*', '', e).strip() for e in re.split(r',(?![^<]*>)', ext)]
    else:
        t = P(tokenize(body), params).union()
    model[name] = t

seen = set()
def walk_all(name):
    stack = [name]
    while stack:
        n = stack.pop()
        if n in seen: continue
        seen.add(n); define(n)
        t = model.get(n)
        def refs(x):
            if isinstance(x, dict):
                if 'ref' in x: stack.append(x['ref'])
                for k, v in x.items():
                    if k == 'extends': stack.extend(v)
                    else: refs(v)
            elif isinstance(x, list):
                for y in x: refs(y)
        refs(t)

roots = {
  'bulk_action': 'BulkOperationContainer',
  'search': 'SearchRequest', 'mget': 'MgetRequest', 'close_point_in_time': 'ClosePointInTimeRequest',
  'ilm_put_lifecycle': 'IlmPutLifecycleRequest', 'put_component_template': 'ClusterPutComponentTemplateRequest',
  'put_index_template': 'IndicesPutIndexTemplateRequest', 'security_put_role': 'SecurityPutRoleRequest',
}
for r in roots.values(): walk_all(r)
# Requests: keep only their body
bodies = {}
for key, r in roots.items():
    t = model[r]
    bodies[key] = t if key == 'bulk_action' else t['object']['body']['type']
for r in roots.values():
    if r != 'BulkOperationContainer': model.pop(r, None)
# drop now-unreferenced types
keep = set()
def mark(x):
    if isinstance(x, dict):
        if 'ref' in x and x['ref'] not in keep:
            keep.add(x['ref']); mark(model.get(x['ref']))
        for k, v in x.items():
            if k == 'extends':
                for e in v:
                    if e not in keep: keep.add(e); mark(model.get(e))
            else: mark(v)
    elif isinstance(x, list):
        for y in x: mark(y)
mark(bodies)
model = {k: v for k, v in sorted(model.items()) if k in keep}
out = {'source': f'github.com/elastic/elasticsearch-specification output/typescript/types.ts at {commit}',
       'bodies': bodies, 'types': model}
json.dump(out, open(sys.argv[3], 'w'), separators=(',', ':'), sort_keys=False)
print(len(model), 'types')
