/**
 * The subset of Go's text/template that `docker --format` needs for the bot and its tests: fields,
 * variables, pipes, `if`/`else`/`range`/`with`/`end`, `{{-`/`-}}`, and docker's helpers (`json`, `join`, …).
 * Objects are Go structs (a missing field is an error, as docker reports it); `GoMap`s are Go maps (a missing
 * key prints `<no value>`, `index` gives the zero value).
 */
import { FUNCTIONS, GoMap, goString, TemplateError, truthy } from './template-values.mjs';

export { GoMap, TemplateError };

function tokenize(body) {
  const tokens = [];
  let i = 0;
  while (i < body.length) {
    const rest = body.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const patterns = [
      ['string', /^"(?:[^"\\]|\\.)*"/],
      ['raw', /^`[^`]*`/],
      ['declare', /^:=/],
      ['punct', /^[|(),]/],
      ['variable', /^\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/],
      ['field', /^(?:\.[A-Za-z0-9_]+)+|^\./],
      ['number', /^-?\d+(?:\.\d+)?/],
      ['ident', /^[A-Za-z_][A-Za-z0-9_]*/],
    ];
    const match = patterns.map(([kind, re]) => [kind, re.exec(rest)]).find(([, m]) => m);
    if (!match) throw new TemplateError(`unexpected "${rest[0]}" in command`);
    // `(pipeline).Field`: a field right after `)` (no space) applies to the pipeline's value.
    const chained = match[0] === 'field' && tokens.at(-1)?.text === ')' && body[i - 1] === ')';
    tokens.push({ kind: chained ? 'chain' : match[0], text: match[1][0] });
    i += match[1][0].length;
  }
  return tokens;
}

/** Splits a template into text and actions, applying `{{-` and `-}}` trimming. */
function lex(source) {
  const parts = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: source.slice(i) });
      break;
    }
    let text = source.slice(i, open);
    let start = open + 2;
    if (/^-\s/.test(source.slice(start))) {
      text = text.trimEnd();
      start += 1;
    }
    parts.push({ text });
    const close = source.indexOf('}}', start);
    if (close < 0) throw new TemplateError('unclosed action');
    let body = source.slice(start, close);
    i = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const after = /^\s*/.exec(source.slice(i));
      i += after ? after[0].length : 0;
    }
    parts.push({ action: body.trim() });
  }
  return parts;
}

function parsePipeline(tokens) {
  let pos = 0;
  const decl = [];
  if (tokens.some((t) => t.kind === 'declare')) {
    while (tokens[pos] && tokens[pos].kind !== 'declare') {
      if (tokens[pos].kind === 'variable') decl.push(tokens[pos].text);
      pos += 1;
    }
    pos += 1;
  }
  const parseCommands = (stopAtParen) => {
    const commands = [[]];
    while (pos < tokens.length) {
      const token = tokens[pos];
      if (token.text === ')' && token.kind === 'punct') {
        if (!stopAtParen) throw new TemplateError('unexpected ")"');
        pos += 1;
        return commands;
      }
      pos += 1;
      if (token.text === '|' && token.kind === 'punct') commands.push([]);
      else if (token.text === '(' && token.kind === 'punct')
        commands.at(-1).push({ kind: 'pipe', commands: parseCommands(true) });
      else if (token.kind === 'chain') {
        const last = commands.at(-1).at(-1);
        if (last?.kind !== 'pipe') throw new TemplateError(`unexpected ${token.text}`);
        last.chain = token.text;
      } else commands.at(-1).push(token);
    }
    if (stopAtParen) throw new TemplateError('unclosed left paren');
    return commands;
  };
  const commands = parseCommands(false);
  if (commands.some((c) => c.length === 0)) throw new TemplateError('missing command');
  return { decl, commands };
}

function parse(source) {
  const root = { kind: 'list', nodes: [] };
  const stack = [{ node: root, list: root.nodes }];
  for (const part of lex(source)) {
    const top = stack.at(-1);
    if (part.text !== undefined) {
      if (part.text !== '') top.list.push({ kind: 'text', text: part.text });
      continue;
    }
    const action = part.action;
    if (action.startsWith('/*')) continue;
    const [word] = action.split(/\s+/, 1);
    const rest = action.slice(word.length);
    if (word === 'if' || word === 'range' || word === 'with') {
      const node = { kind: word, pipe: parsePipeline(tokenize(rest)), body: [], otherwise: [] };
      top.list.push(node);
      stack.push({ node, list: node.body });
    } else if (word === 'else') {
      if (stack.length < 2) throw new TemplateError('unexpected {{else}}');
      top.list = top.node.otherwise;
      if (/^\s*if\s/.test(rest)) {
        const node = {
          kind: 'if',
          pipe: parsePipeline(tokenize(rest.replace(/^\s*if/, ''))),
          body: [],
          otherwise: [],
        };
        top.list.push(node);
        stack.push({ node, list: node.body, chained: true });
      }
    } else if (word === 'end') {
      if (stack.length < 2) throw new TemplateError('unexpected {{end}}');
      while (stack.pop().chained) {}
    } else {
      top.list.push({ kind: 'output', pipe: parsePipeline(tokenize(action)) });
    }
  }
  if (stack.length > 1) throw new TemplateError('unexpected EOF');
  return root;
}

function field(value, name, path) {
  if (value instanceof GoMap) return Object.hasOwn(value.entries, name) ? value.entries[name] : undefined;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (Object.hasOwn(value, name)) return value[name];
  }
  if (value === null || value === undefined)
    throw new TemplateError(`executing "" at <${path}>: nil pointer evaluating interface {}.${name}`);
  throw new TemplateError(`executing "" at <${path}>: map has no entry for key "${name}"`);
}

function evalPipeline(pipe, dot, vars) {
  let value;
  for (const [i, command] of pipe.commands.entries()) {
    value = evalCommand(command, dot, vars, i === 0 ? [] : [value]);
  }
  return value;
}

function evalOperand(token, dot, vars) {
  switch (token.kind) {
    case 'pipe': {
      const value = evalPipeline(token, dot, vars);
      if (!token.chain) return value;
      return token.chain
        .slice(1)
        .split('.')
        .reduce((acc, name) => field(acc, name, token.chain), value);
    }
    case 'string':
      return JSON.parse(token.text);
    case 'raw':
      return token.text.slice(1, -1);
    case 'number':
      return Number(token.text);
    case 'field':
      return token.text === '.'
        ? dot
        : token.text
            .slice(1)
            .split('.')
            .reduce((acc, name) => field(acc, name, token.text), dot);
    case 'variable': {
      const [name, ...path] = token.text.split('.');
      if (!vars.has(name)) throw new TemplateError(`undefined variable "${name}"`);
      return path.reduce((acc, part) => field(acc, part, token.text), vars.get(name));
    }
    case 'ident':
      if (token.text === 'true' || token.text === 'false') return token.text === 'true';
      if (token.text === 'nil') return null;
      return evalCommand([token], dot, vars, []);
    default:
      throw new TemplateError(`unexpected ${token.text}`);
  }
}

function evalCommand(command, dot, vars, piped) {
  const [head, ...rest] = command;
  if (head.kind === 'ident' && !['true', 'false', 'nil'].includes(head.text)) {
    const fn = FUNCTIONS[head.text];
    if (!fn) throw new TemplateError(`function "${head.text}" not defined`);
    return fn(...rest.map((t) => evalOperand(t, dot, vars)), ...piped);
  }
  if (rest.length > 0 || piped.length > 0)
    throw new TemplateError(`can't give argument to non-function ${head.text}`);
  return evalOperand(head, dot, vars);
}

function entriesOf(value) {
  if (value instanceof GoMap)
    return Object.keys(value.entries)
      .sort()
      .map((k) => [k, value.entries[k]]);
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (value === null || value === undefined) return [];
  throw new TemplateError(`range can't iterate over ${goString(value)}`);
}

function run(nodes, dot, vars, out) {
  for (const node of nodes) {
    if (node.kind === 'text') out.push(node.text);
    else if (node.kind === 'output') {
      const value = evalPipeline(node.pipe, dot, vars);
      if (node.pipe.decl.length > 0) vars.set(node.pipe.decl[0], value);
      else out.push(goString(value));
    } else if (node.kind === 'if' || node.kind === 'with') {
      const value = evalPipeline(node.pipe, dot, vars);
      if (truthy(value)) run(node.body, node.kind === 'with' ? value : dot, vars, out);
      else run(node.otherwise, dot, vars, out);
    } else if (node.kind === 'range') {
      const items = entriesOf(evalPipeline(node.pipe, dot, vars));
      if (items.length === 0) run(node.otherwise, dot, vars, out);
      for (const [key, value] of items) {
        const scope = new Map(vars);
        const [a, b] = node.pipe.decl;
        if (b !== undefined) {
          scope.set(a, key);
          scope.set(b, value);
        } else if (a !== undefined) scope.set(a, value);
        run(node.body, value, scope, out);
      }
    }
  }
}

/** Renders `source` against `data`; throws TemplateError with Go's wording for what docker reports. */
export function render(source, data) {
  const tree = parse(source);
  const out = [];
  run(tree.nodes, data, new Map([['$', data]]), out);
  return out.join('');
}
