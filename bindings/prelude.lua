-- The stack DSL. Runs once, before the stack file, with privileged helpers that user
-- code never sees. Each constructor checks the shape of what it is given and records
-- where it was declared, so every mistake is reported at the user's file:line.
-- The result is a plain table of declarations that bindings/stack_loader.cpp turns
-- into C++ structs; nothing here runs per record.
local privileged = ...
local getinfo = privileged.getinfo
local load_chunk = privileged.load_chunk
local connector_kinds = privileged.connectors
local alert_bounds = privileged.alert_bounds

local PRELUDE = getinfo(1, "S").source
local TAG = {}
local decls = { params = {}, systems = {}, reconciles = {}, alerts = {}, units = nil }
local param_names, system_names, reconcile_names, alert_names = {}, {}, {}, {}
local pending = {}   -- `system "x"` / `reconcile "y"` still waiting for their { ... } body

-- file and line of the nearest caller outside this prelude
local function where()
  for level = 2, 50 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if info.source ~= PRELUDE and info.what ~= "C" then
      return (info.source:gsub("^@", "")), info.currentline
    end
  end
  return "?", 0
end

local function user_error(msg)
  local file, line = where()
  error(file .. ":" .. line .. ": " .. msg, 0)
end

local function tagged(kind, t) t[TAG] = kind; return t end
local function tag_of(v) return type(v) == "table" and rawget(v, TAG) or nil end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do if k ~= TAG then keys[#keys + 1] = tostring(k) end end
  table.sort(keys)
  return keys
end

local function check_table(v, what)
  if type(v) ~= "table" or tag_of(v) then
    user_error(what .. " expects a table { ... }, found " .. (tag_of(v) or type(v)))
  end
end

local function check_string(v, what)
  if type(v) ~= "string" or v == "" then
    user_error(what .. " expects a non-empty string, found " .. type(v))
  end
end

local function check_options(t, allowed, what)
  local ok = {}
  for _, k in ipairs(allowed) do ok[k] = true end
  for k in pairs(t) do
    if type(k) == "string" and not ok[k] then
      user_error(what .. " has no option '" .. k .. "' (options: " .. table.concat(allowed, ", ") .. ")")
    end
  end
end

local function string_map(t, what)
  check_table(t, what)
  local out = {}
  for k, v in pairs(t) do
    if type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean" then
      user_error(what .. ": value for '" .. tostring(k) .. "' must be text, found " .. type(v))
    end
    out[tostring(k)] = tostring(v)
  end
  return out
end

-- A threshold: a literal or `param "name"`.
local function number_ref(v, what)
  if v == nil then return nil end
  if tag_of(v) == "param" then return { param = v.name } end
  if type(v) == "number" or type(v) == "string" then return { literal = tostring(v) } end
  user_error(what .. " must be a number or param \"name\", found " .. type(v))
end

---------------------------------------------------------------------------- stack, params

function stack(name)
  check_string(name, "stack")
  decls.name = name
  decls.file, decls.line = where()
end

-- accounting_zone "America/New_York": the zone the books are kept in. same_period rules
-- without a zone of their own use it, and `seam report totals` buckets periods in it.
function accounting_zone(zone)
  check_string(zone, "accounting_zone")
  if decls.accounting_zone then
    user_error("accounting_zone is declared twice (first at " .. decls.accounting_zone.file .. ":" ..
               decls.accounting_zone.line .. ")")
  end
  local file, line = where()
  decls.accounting_zone = { zone = zone, file = file, line = line }
end

local PARAM_TYPES = { integer = true, number = true, money = true, text = true, boolean = true }

function param(name, opts)
  check_string(name, "param")
  if opts == nil then return tagged("param", { name = name }) end   -- a reference: param "name"
  check_table(opts, 'param("' .. name .. '", ...)')
  check_options(opts, { "type", "default", "min", "max", "unit", "doc" }, 'param("' .. name .. '")')
  if opts.default == nil then user_error("param '" .. name .. "' needs a default") end
  local ty = opts.type
  if ty == nil then
    if math.type(opts.default) == "integer" then ty = "integer"
    elseif type(opts.default) == "number" then ty = "number"
    elseif type(opts.default) == "boolean" then ty = "boolean"
    else ty = "text" end
  end
  if not PARAM_TYPES[ty] then
    user_error("param '" .. name .. "' has unknown type '" .. tostring(ty) .. "' (integer, number, money, text, boolean)")
  end
  local file, line = where()
  if param_names[name] then
    user_error("param '" .. name .. "' is declared twice (first at " .. param_names[name] .. ")")
  end
  param_names[name] = file .. ":" .. line
  decls.params[#decls.params + 1] = {
    name = name, type = ty, default = tostring(opts.default),
    min = opts.min ~= nil and tostring(opts.min) or nil, max = opts.max ~= nil and tostring(opts.max) or nil,
    unit = opts.unit or "", doc = opts.doc or "", file = file, line = line,
  }
end

-- Values of params at run time, for Lua rules; set by the engine after loading.
params = setmetatable({}, { __index = function(_, k)
  error("params." .. tostring(k) .. " is known only when rules run; in declarations write param \"" .. tostring(k) .. "\"", 2)
end })

---------------------------------------------------------------------------- sources

-- A table option (header_contains = { "Date", "Amount" }, skip_rows = { { ... } }) reaches
-- the connector as JSON text: the source's options stay a map of strings, and the
-- connector, which already reads JSON, checks the shape and says what is wrong.
local function option_json(v, what)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif t == "table" and not tag_of(v) then
    local n = #v
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    local parts = {}
    if n == count then
      for i = 1, n do parts[i] = option_json(v[i], what) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k in pairs(v) do
      if type(k) ~= "string" then user_error(what .. " mixes a list with named options") end
    end
    for _, k in ipairs(sorted_keys(v)) do
      parts[#parts + 1] = option_json(k, what) .. ":" .. option_json(v[k], what)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  user_error(what .. " expects text, a number, true/false or a table, found " .. (tag_of(v) or t))
end

for _, kind in ipairs(connector_kinds) do
  _ENV[kind.name] = function(opts)
    check_table(opts, kind.name)
    local allowed = { "path" }
    for _, o in ipairs(kind.options) do allowed[#allowed + 1] = o end
    check_options(opts, allowed, kind.name .. " { ... }")
    check_string(opts.path, kind.name .. " { path = ... }")
    local options = {}
    for k, v in pairs(opts) do
      if k ~= "path" then
        options[k] = type(v) == "table" and option_json(v, kind.name .. " { " .. k .. " = ... }") or tostring(v)
      end
    end
    local file, line = where()
    return tagged("source", { kind = kind.name, path = opts.path, options = options, file = file, line = line })
  end
end

---------------------------------------------------------------------------- field mappings

local function string_list(v, what, min)
  check_table(v, what)
  local out = {}
  for i, x in ipairs(v) do check_string(x, what .. "[" .. i .. "]"); out[i] = x end
  if #out < (min or 1) then user_error(what .. " needs at least " .. (min or 1) .. " " .. ((min or 1) == 1 and "entry" or "entries")) end
  return out
end

-- column_by = { field = "type", columns = { LOAD = "...", REDEEM = "..." }, negate = { "REDEEM" } }
local function read_column_by(v, what)
  check_table(v, what)
  check_options(v, { "field", "columns", "negate" }, what)
  check_string(v.field, what .. " { field = ... }")
  check_table(v.columns, what .. " { columns = ... }")
  local columns = {}
  for k, c in pairs(v.columns) do
    check_string(c, what .. " columns[\"" .. tostring(k) .. "\"]")
    columns[tostring(k)] = c
  end
  local declared = sorted_keys(columns)
  if #declared == 0 then user_error(what .. " { columns = ... } needs at least one value = column") end
  local negate = {}
  if v.negate ~= nil then
    negate = string_list(v.negate, what .. " { negate = ... }")
    for _, x in ipairs(negate) do
      if columns[x] == nil then
        user_error(what .. " { negate = ... } names '" .. x .. "', which columns does not (declared: " .. table.concat(declared, ", ") .. ")")
      end
    end
  end
  return { field = v.field, columns = columns, negate = negate }
end

-- Options every field reading columns shares; see docs/stack.md, "Field mappings".
local READS = { "column", "columns", "null_if", "default", "required" }
local function options(...)
  local out = {}
  for _, list in ipairs({ ... }) do for _, o in ipairs(list) do out[#out + 1] = o end end
  return out
end

local function field_decl(kind, opts, allowed)
  local internal = kind
  if kind == "column" then kind = "text" end  -- the text { } declaration, named as the stack writes it
  check_table(opts, kind)
  check_options(opts, allowed, kind .. " { ... }")
  local what = kind .. " { ... }"
  local sources = {}
  if opts.column ~= nil then check_string(opts.column, kind .. " { column = ... }"); sources[#sources + 1] = "column" end
  if opts.columns ~= nil and kind ~= "concat" then sources[#sources + 1] = "columns" end
  if opts.column_by ~= nil then sources[#sources + 1] = "column_by" end
  if opts.debit ~= nil or opts.credit ~= nil then sources[#sources + 1] = "debit and credit" end
  if #sources == 0 and kind ~= "concat" then check_string(opts.column, kind .. " { column = ... }") end
  if #sources > 1 then
    user_error(what .. " reads one of column, columns, column_by or debit and credit; found " .. table.concat(sources, " and "))
  end
  local file, line = where()
  local t = { kind = internal, file = file, line = line, required = opts.required == true }
  for k, v in pairs(opts) do if t[k] == nil then t[k] = v end end
  if opts.columns ~= nil then t.columns = string_list(opts.columns, kind .. " { columns = ... }", kind == "concat" and 2 or 1) end
  if opts.null_if ~= nil then t.null_if = string_list(opts.null_if, kind .. " { null_if = ... }") end
  if opts.column_by ~= nil then t.column_by = read_column_by(opts.column_by, kind .. " { column_by = ... }") end
  if opts.default ~= nil then
    if type(opts.default) ~= "string" and type(opts.default) ~= "number" then
      user_error(kind .. " { default = ... } must be text or a number, found " .. type(opts.default))
    end
    t.default = tostring(opts.default)
  end
  for _, flag in ipairs({ "negate", "abs", "trim", "required" }) do
    if opts[flag] ~= nil and type(opts[flag]) ~= "boolean" then
      user_error(kind .. " { " .. flag .. " = ... } must be true or false, found " .. type(opts[flag]))
    end
  end
  if opts.case ~= nil and opts.case ~= "lower" and opts.case ~= "upper" then
    user_error(kind .. " { case = ... } must be \"lower\" or \"upper\", found '" .. tostring(opts.case) .. "'")
  end
  return tagged("field", t)
end

local TEXT_OPS = { "trim", "case" }
local SIGN_OPS = { "negate", "abs" }

function text(opts) return field_decl("column", opts, options(READS, TEXT_OPS)) end
function integer(opts) return field_decl("integer", opts, options(READS, SIGN_OPS)) end

-- concat { columns = { "order_id", "sku" }, separator = "-" }: one text from several columns.
function concat(opts)
  check_table(opts, "concat")
  if opts.columns == nil then user_error("concat { ... } needs columns = { \"a\", \"b\", ... } (the parts, in order)") end
  local f = field_decl("concat", opts, { "columns", "separator", "null_if", "default", "required", "trim", "case" })
  if f.separator ~= nil and type(f.separator) ~= "string" then
    user_error("concat { separator = ... } must be text, found " .. type(f.separator))
  end
  return f
end

function quantity(opts)
  local f = field_decl("quantity", opts, options(READS, { "unit", "unit_column", "sku_column" }, SIGN_OPS))
  if (f.unit == nil) == (f.unit_column == nil) then
    user_error("quantity { ... } needs unit = \"each\" or unit_column = \"UoM\" (one of them)")
  end
  return f
end

-- units { base = "each", case = 12, pallet = 480, per_sku = { ["SKU-9"] = { case = 6 } } }
function units(opts)
  check_table(opts, "units")
  local file, line = where()
  if decls.units then user_error("units { ... } is declared twice (first at " .. decls.units.file .. ":" .. decls.units.line .. ")") end
  check_string(opts.base, "units { base = ... }")
  local factors, per_sku = {}, {}
  local function factor(v, what)
    if math.type(v) ~= "integer" or v < 1 then
      user_error(what .. " must be a whole number of " .. opts.base .. " (at least 1), found " .. tostring(v))
    end
    return v
  end
  for k, v in pairs(opts) do
    if k == "per_sku" then
      check_table(v, "units { per_sku = ... }")
      for sku, t in pairs(v) do
        check_table(t, "units per_sku[\"" .. tostring(sku) .. "\"]")
        local one = {}
        for u, n in pairs(t) do one[u] = factor(n, "units per_sku[\"" .. tostring(sku) .. "\"]." .. tostring(u)) end
        per_sku[tostring(sku)] = one
      end
    elseif k ~= "base" then
      if type(k) ~= "string" then user_error("units { ... } keys are unit names, found " .. type(k)) end
      factors[k] = factor(v, "units { " .. k .. " }")
    end
  end
  decls.units = { base = opts.base, factors = factors, per_sku = per_sku, file = file, line = line }
end

-- currencies { BTC = 8 }: codes ISO 4217 does not have, with their decimals. ISO codes
-- need no declaration; an undeclared unknown code rejects the row that holds it.
function currencies(opts)
  check_table(opts, "currencies")
  local file, line = where()
  if decls.currencies then
    user_error("currencies { ... } is declared twice (first at " .. decls.currencies.file .. ":" .. decls.currencies.line .. ")")
  end
  local codes = {}
  for k, v in pairs(opts) do
    if type(k) ~= "string" or not k:match("^%u%u%u$") then
      user_error("currencies { ... } keys are three upper-case letters such as BTC, found '" .. tostring(k) .. "'")
    end
    if math.type(v) ~= "integer" or v < 0 or v > 18 then
      user_error("currencies { " .. k .. " = ... } must be the number of decimals (0 to 18), found " .. tostring(v))
    end
    codes[k] = v
  end
  decls.currencies = { codes = codes, file = file, line = line }
end

function money(opts)
  local f = field_decl("money", opts, options(READS, { "currency", "currency_column", "decimal", "minor_units",
    "credit_sign", "dash", "debit", "credit", "column_by" }, SIGN_OPS))
  if f.decimal ~= nil and f.decimal ~= "." and f.decimal ~= "," then
    user_error("money { decimal = ... } must be '.' or ','")
  end
  if (f.debit == nil) ~= (f.credit == nil) then
    user_error("money { " .. (f.debit and "debit" or "credit") .. " = ... } needs " .. (f.debit and "credit" or "debit") ..
      " = ... as well: a signed amount is read from a debit and a credit column together")
  end
  if f.debit ~= nil then
    check_string(f.debit, "money { debit = ... }")
    check_string(f.credit, "money { credit = ... }")
  end
  if f.minor_units and f.currency == nil and f.currency_column == nil then
    user_error("money { minor_units = true } needs currency = ... or currency_column = ...: how many minor units make one unit depends on the currency")
  end
  if f.credit_sign ~= nil and f.credit_sign ~= "negative" and f.credit_sign ~= "positive" then
    user_error("money { credit_sign = ... } must be \"negative\" (credits below zero, the ledger convention) or \"positive\", found '" .. tostring(f.credit_sign) .. "'")
  end
  if f.dash ~= nil and f.dash ~= "zero" then
    user_error("money { dash = ... } must be \"zero\" (a lone '-' means 0); for '-' meaning no value write null_if = { \"-\" }")
  end
  for _, n in ipairs(f.null_if or {}) do
    if f.dash ~= nil and n:match("^%s*%-%s*$") then
      user_error("money { dash = \"zero\", null_if = { \"-\" } } says both that '-' is 0 and that it is no value: keep one")
    end
  end
  return f
end

function time(opts)
  local f = field_decl("time", opts, options(READS, { "format", "zone" }))
  if f.format ~= nil then check_string(f.format, "time { format = ... }") end
  if f.zone ~= nil then check_string(f.zone, "time { zone = ... }") end
  return f
end

function map_values(opts)
  local f = field_decl("map_values", opts, { "column", "columns", "null_if", "map", "default", "required" })
  f.map = string_map(opts.map, "map_values { map = ... }")
  return f
end

function extract(opts)
  local f = field_decl("extract", opts, { "column", "columns", "null_if", "regex", "required" })
  check_string(opts.regex, "extract { regex = ... }")
  return f
end

function constant(value)
  if type(value) ~= "string" and type(value) ~= "number" and type(value) ~= "boolean" then
    user_error("constant(...) expects text or a number, found " .. type(value))
  end
  local file, line = where()
  return tagged("field", { kind = "constant", value = tostring(value), file = file, line = line })
end

---------------------------------------------------------------------------- systems

function system(name)
  check_string(name, "system")
  local file, line = where()
  if system_names[name] then user_error("system '" .. name .. "' is declared twice (first at " .. system_names[name] .. ")") end
  system_names[name] = file .. ":" .. line
  pending["system " .. name] = file .. ":" .. line
  return function(body)
    pending["system " .. name] = nil
    check_table(body, 'system "' .. name .. '"')
    check_options(body, { "source", "fields", "id", "record_time", "amount", "only", "doc" }, 'system "' .. name .. '"')
    local only
    if body.only ~= nil then
      local what = 'system "' .. name .. '" only'
      check_table(body.only, what)
      -- one condition: { field = ..., values = {...} | equals = "x" | matches = "regex" }
      local function condition(c, cwhat)
        check_table(c, cwhat)
        check_options(c, { "field", "values", "equals", "matches" }, cwhat)
        check_string(c.field, cwhat .. " { field = ... }")
        local given = (c.values ~= nil and 1 or 0) + (c.equals ~= nil and 1 or 0) + (c.matches ~= nil and 1 or 0)
        if given ~= 1 then user_error(cwhat .. " needs one of values = {...}, equals = \"...\" or matches = \"regex\"") end
        if c.equals ~= nil then check_string(c.equals, cwhat .. " { equals = ... }"); return { field = c.field, values = { c.equals } } end
        if c.matches ~= nil then check_string(c.matches, cwhat .. " { matches = ... }"); return { field = c.field, matches = c.matches } end
        check_table(c.values, cwhat .. " { values = ... }")
        if #c.values == 0 then user_error(cwhat .. " { values = ... } needs at least one value") end
        local values = {}
        for i, v in ipairs(c.values) do check_string(v, cwhat .. " values[" .. i .. "]"); values[i] = v end
        return { field = c.field, values = values }
      end
      if body.only.all ~= nil or body.only.any ~= nil then
        check_options(body.only, { "all", "any" }, what)
        if body.only.all ~= nil and body.only.any ~= nil then user_error(what .. " takes all = {...} or any = {...}, not both") end
        local mode = body.only.all ~= nil and "all" or "any"
        local list = body.only[mode]
        check_table(list, what .. " { " .. mode .. " = ... }")
        if #list == 0 then user_error(what .. " { " .. mode .. " = ... } needs at least one condition") end
        only = { any = mode == "any", conditions = {} }
        for i, c in ipairs(list) do only.conditions[i] = condition(c, what .. " " .. mode .. "[" .. i .. "]") end
      else
        only = { any = false, conditions = { condition(body.only, what) } }
      end
    end
    if tag_of(body.source) ~= "source" then
      user_error('system "' .. name .. '" needs source = csv { path = ... } (or another connector)')
    end
    check_table(body.fields, 'system "' .. name .. '" fields')
    local fields = {}
    for _, fname in ipairs(sorted_keys(body.fields)) do
      local v = body.fields[fname]
      local f
      if type(v) == "string" then
        f = { kind = "column", column = v, file = file, line = line }
      elseif type(v) == "function" then
        local info = getinfo(v, "S")
        f = { kind = "lua", fn = v, file = (info.source:gsub("^@", "")), line = info.linedefined }
      elseif tag_of(v) == "field" then
        f = v
      else
        user_error('system "' .. name .. '": field ' .. fname .. ' must be a column name, a mapping such as money { ... }, or a function(row), found ' .. (tag_of(v) or type(v)))
      end
      f.name = fname
      fields[#fields + 1] = f
    end
    for _, opt in ipairs({ "id", "record_time", "amount" }) do
      if body[opt] ~= nil then check_string(body[opt], 'system "' .. name .. '" ' .. opt) end
    end
    decls.systems[#decls.systems + 1] = {
      name = name, source = body.source, fields = fields, id = body.id, record_time = body.record_time,
      amount = body.amount, only = only, file = file, line = line,
    }
  end
end

---------------------------------------------------------------------------- rules

local COMMON = { "name", "severity", "doc", "caused_by" }
local function with_common(list)
  local out = {}
  for _, v in ipairs(COMMON) do out[#out + 1] = v end
  for _, v in ipairs(list) do out[#out + 1] = v end
  return out
end

local function rule_decl(kind, opts, default_name, extra)
  local file, line = where()
  local t = { kind = kind, name = opts.name or default_name, severity = opts.severity, doc = opts.doc,
              file = file, line = line }
  if opts.caused_by ~= nil then
    -- caused_by = { reconcile = "loads", rule = "exists in right", via = "left.load_id", explains = "same_sign" },
    -- or a list of them: { { reconcile = "loads", via = "left.id" }, { reconcile = "redemptions" } }
    check_table(opts.caused_by, kind .. " { caused_by = ... }")
    local list = opts.caused_by[1] ~= nil and opts.caused_by or { opts.caused_by }
    t.causes = {}
    for i, c in ipairs(list) do
      local what = kind .. " { caused_by = " .. (#list > 1 and "{ ..., [" .. i .. "] = " or "") .. "... }"
      check_table(c, what)
      check_options(c, { "reconcile", "rule", "via", "explains" }, what)
      check_string(c.reconcile, kind .. " { caused_by = { reconcile = ... } }")
      -- Without a rule, any rule of that reconciliation failing on the key may be the cause.
      if c.rule ~= nil then check_string(c.rule, kind .. " { caused_by = { rule = ... } }") end
      local cause = { reconcile = c.reconcile, rule = c.rule }
      if c.via ~= nil then
        check_string(c.via, kind .. " { caused_by = { via = ... } }")
        local side, field = c.via:match("^(%a+)%.(.+)$")
        if side == "left" or side == "right" then
          cause.via_side, cause.via = side, field
        else
          cause.via = c.via
        end
      end
      if c.explains ~= nil and c.explains ~= "same_sign" and c.explains ~= "opposite_sign" and c.explains ~= "any" then
        user_error(kind .. " { caused_by = { explains = ... } } must be same_sign, opposite_sign or any, found '" ..
                   tostring(c.explains) .. "'")
      end
      cause.explains = c.explains
      t.causes[i] = cause
    end
  end
  for k, v in pairs(extra or {}) do t[k] = v end
  if t.name ~= nil then check_string(t.name, kind .. " { name = ... }") end
  return tagged("rule", t)
end

-- Choices shared by rules and match strategies.
local NORMALIZE_FLAGS = { "ignore_case", "trim", "remove_spaces", "strip_leading_zeros" }
local TOLERANCE_BASES = { left = true, right = true, larger = true, smaller = true }
local TIME_UNITS = { minutes = true, hours = true, days = true }
local DIRECTIONS = { either = true, after = true, before = true }
local SIMILARITY_METHODS = { jaro_winkler = true, levenshtein = true }

local function one_of(v, allowed, default, what, names)
  if v == nil then return default end
  if type(v) ~= "string" or not allowed[v] then
    user_error(what .. " must be " .. names .. ", found '" .. tostring(v) .. "'")
  end
  return v
end

-- One field name or a list of them.
local function key_list(v, what)
  if type(v) == "string" then return { v } end
  check_table(v, what)
  if #v == 0 then user_error(what .. " needs at least one field") end
  local out = {}
  for i, f in ipairs(v) do check_string(f, what .. "[" .. i .. "]"); out[i] = f end
  return out
end

-- "right" / "right.field" or { "right.field", name = ... }
local function side_field(arg, what, need_field)
  local opts = arg
  if type(arg) == "string" then opts = { arg } end
  check_table(opts, what)
  local target = opts[1]
  check_string(target, what)
  local side, field = target:match("^(%a+)%.([%w_]+)$")
  if not side then side = target end
  if side ~= "left" and side ~= "right" then
    user_error(what .. ' expects "left" or "right" (optionally ".field"), found "' .. target .. '"')
  end
  if need_field and not field then user_error(what .. ' expects "' .. side .. '.field"') end
  return opts, side, field
end

function exists_in(arg)
  local opts, side = side_field(arg, "exists_in", false)
  check_options(opts, with_common({ "grace_minutes", "since" }), "exists_in")
  return rule_decl("exists_in", opts, "exists in " .. side, {
    side = side, since = opts.since, grace = number_ref(opts.grace_minutes, "exists_in grace_minutes"),
  })
end

local function two_fields(kind, opts, extra_options)
  check_table(opts, kind)
  check_options(opts, with_common(extra_options), kind)
  local left, right = opts.left or opts.field, opts.right or opts.field
  check_string(left, kind .. " { left = ... } (or field = ...)")
  check_string(right, kind .. " { right = ... } (or field = ...)")
  return left, right
end

function amount_equal(opts)
  local left, right = two_fields("amount_equal", opts or {}, { "field", "left", "right", "tolerance", "tolerance_pct", "base", "sum_left", "sum_right" })
  for _, k in ipairs({ "sum_left", "sum_right" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then user_error("amount_equal { " .. k .. " = ... } must be true or false") end
  end
  if opts.base ~= nil and not TOLERANCE_BASES[opts.base] then
    user_error("amount_equal base must be left, right, larger or smaller (what tolerance_pct is a percentage of), found '" .. tostring(opts.base) .. "'")
  end
  if opts.base ~= nil and opts.tolerance_pct == nil then user_error("amount_equal base applies to tolerance_pct") end
  return rule_decl("amount_equal", opts, left == right and (left .. " equal") or (left .. " equal " .. right), {
    left = left, right = right, tolerance = number_ref(opts.tolerance, "amount_equal tolerance"),
    tolerance_pct = number_ref(opts.tolerance_pct, "amount_equal tolerance_pct"),
    sum_left = opts.sum_left, sum_right = opts.sum_right, base = opts.base,
  })
end

-- Counts in base units (integer or quantity fields): count drift beyond `tolerance` units.
function quantity_equal(opts)
  local left, right = two_fields("quantity_equal", opts or {}, { "field", "left", "right", "tolerance", "sum_left", "sum_right" })
  for _, k in ipairs({ "sum_left", "sum_right" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then user_error("quantity_equal { " .. k .. " = ... } must be true or false") end
  end
  return rule_decl("quantity_equal", opts, left == right and (left .. " equal") or (left .. " equal " .. right), {
    left = left, right = right, tolerance = number_ref(opts.tolerance, "quantity_equal tolerance"),
    sum_left = opts.sum_left, sum_right = opts.sum_right,
  })
end

-- Two ledgers of the same key (a card's loads, redemptions and refunds; a SKU's movements),
-- each in time order: entry by entry and as a running balance. The first entry where they
-- part ways is named.
function ledger_equal(opts)
  check_table(opts, "ledger_equal")
  check_options(opts, with_common({ "amount", "left_amount", "right_amount", "time", "left_time", "right_time", "tolerance",
                                    "entry", "left_entry", "right_entry", "window_minutes" }), "ledger_equal")
  local le, re = opts.left_entry or opts.entry, opts.right_entry or opts.entry
  if (le == nil) ~= (re == nil) then user_error("ledger_equal pairs entries by id on both sides: give left_entry and right_entry (or entry)") end
  if le ~= nil then check_string(le, "ledger_equal { left_entry = ... }"); check_string(re, "ledger_equal { right_entry = ... }") end
  local la, ra = opts.left_amount or opts.amount, opts.right_amount or opts.amount
  local lt, rt = opts.left_time or opts.time, opts.right_time or opts.time
  check_string(la, "ledger_equal { left_amount = ... } (or amount = ...)")
  check_string(ra, "ledger_equal { right_amount = ... } (or amount = ...)")
  check_string(lt, "ledger_equal { left_time = ... } (or time = ...)")
  check_string(rt, "ledger_equal { right_time = ... } (or time = ...)")
  return rule_decl("ledger_equal", opts, "ledgers agree", {
    left = la, right = ra, left_time = lt, right_time = rt, tolerance = number_ref(opts.tolerance, "ledger_equal tolerance"),
    left_entry = le, right_entry = re, window_minutes = number_ref(opts.window_minutes, "ledger_equal window_minutes"),
  })
end

-- Low stock: available < factor x average daily sell-through over the last `days` days
-- (up to the run's as-of). Stock on one side, sales lines on the other, grouped by SKU.
function low_stock(opts)
  check_table(opts, "low_stock")
  check_options(opts, with_common({ "stock", "sales", "sold_at", "days", "factor" }), "low_stock")
  local _, stock_side, stock_field = side_field(opts.stock, "low_stock { stock = ... }", true)
  local _, sales_side, sales_field = side_field(opts.sales, "low_stock { sales = ... }", true)
  local _, time_side, time_field = side_field(opts.sold_at, "low_stock { sold_at = ... }", true)
  if sales_side == stock_side then user_error("low_stock { sales = ... } must be on the other side from stock") end
  if time_side ~= sales_side then user_error("low_stock { sold_at = ... } must be on the sales side (" .. sales_side .. ")") end
  if opts.days == nil then user_error("low_stock { days = ... } is required") end
  return rule_decl("low_stock", opts, "low stock", {
    side = stock_side, field = stock_field, sales_field = sales_field, sales_time = time_field,
    days = number_ref(opts.days, "low_stock days"), factor = number_ref(opts.factor or 2, "low_stock factor"),
  })
end

-- ignore_case = true, trim = true: how equal and value_map compare text.
local function text_compare(opts, kind)
  for _, k in ipairs({ "ignore_case", "trim" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then user_error(kind .. " { " .. k .. " = ... } must be true or false") end
  end
  return opts.ignore_case, opts.trim
end

function value_map(opts)
  local left, right = two_fields("value_map", opts or {}, { "field", "left", "right", "map", "ignore_case", "trim" })
  local ignore_case, trim = text_compare(opts, "value_map")
  return rule_decl("value_map", opts, left == right and (left .. " mapped") or (left .. " mapped to " .. right), {
    left = left, right = right, map = string_map(opts.map, "value_map { map = ... }"), ignore_case = ignore_case, trim = trim,
  })
end

function equal(opts)
  local left, right = two_fields("equal", opts or {}, { "field", "left", "right", "ignore_case", "trim" })
  local ignore_case, trim = text_compare(opts, "equal")
  return rule_decl("equal", opts, left == right and (left .. " equal") or (left .. " equal " .. right),
                   { left = left, right = right, ignore_case = ignore_case, trim = trim })
end

-- within { left = "at", right = "posted_at", minutes = 30 }: the lag between the two times
-- is at most `minutes` (or `days`, calendar days in `zone`), at least `min_minutes` /
-- `min_days`, in a `direction` (either, after: right after left, before), measured for
-- each pair of records or between the group's `earliest` or `latest` times (`anchor`).
local ANCHORS = { each = true, earliest = true, latest = true }
local PERIODS = { day = true, month = true, quarter = true, year = true }
function within(opts)
  local left, right = two_fields("within", opts or {},
    { "left", "right", "minutes", "min_minutes", "days", "min_days", "zone", "direction", "anchor" })
  if (opts.minutes == nil) == (opts.days == nil) then user_error("within needs one of minutes = N or days = N (calendar days)") end
  if opts.days == nil and (opts.min_days ~= nil or opts.zone ~= nil) then user_error("within min_days and zone go with days = N") end
  if opts.days ~= nil and opts.min_minutes ~= nil then user_error("within min_minutes goes with minutes = N; with days use min_days") end
  if opts.zone ~= nil then check_string(opts.zone, "within zone") end
  local direction = one_of(opts.direction, DIRECTIONS, nil, "within direction", "either, after (right after left) or before")
  local anchor = one_of(opts.anchor, ANCHORS, nil, "within anchor", "each, earliest or latest")
  return rule_decl("within", opts, "lag " .. left .. " -> " .. right, {
    left = left, right = right, minutes = number_ref(opts.minutes, "within minutes"),
    min_minutes = number_ref(opts.min_minutes, "within min_minutes"),
    days = number_ref(opts.days, "within days"), min_days = number_ref(opts.min_days, "within min_days"),
    zone = opts.zone, direction = direction, anchor = anchor,
  })
end

-- same_period { left = "at", right = "posted_at", period = "month", zone = "America/New_York" }:
-- the right record is booked in the same calendar day, month, quarter or year as the left
-- one happened, in the zone the books are kept in (UTC by default): a refund at 23:50 on
-- the last day of the month booked ten minutes later is inside any lag window but lands in
-- the next period, a cut-off problem for month-end close.
function same_period(opts)
  local left, right = two_fields("same_period", opts or {}, { "field", "left", "right", "period", "zone" })
  local period = one_of(opts.period, PERIODS, "month", "same_period period", "day, month, quarter or year")
  if opts.zone ~= nil then check_string(opts.zone, "same_period zone") end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  -- Without a zone: the stack's accounting_zone (the loader resolves it), else UTC.
  local books = decls.accounting_zone and decls.accounting_zone.zone or "UTC"
  o.doc = o.doc or ("left and right fall in the same calendar " .. period .. " (" .. (opts.zone or books) .. ")")
  return rule_decl("same_period", o, "same accounting " .. period, {
    left = left, right = right, period = period, zone = opts.zone,
  })
end

-- same_month { ... }: same_period with period = "month" (rules/periods.lua shipped it in Lua).
function same_month(opts)
  if type(opts) == "table" and opts.period ~= nil then user_error("same_month is same_period with period = \"month\"; use same_period for another period") end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.period = "month"
  return same_period(o)
end

-- value_in { "right.status", values = { "Refunded", "Pending Approval" } } / value_not_in:
-- one side's value must (not) be one of these; a failure carries the record's money at stake.
local function value_set(kind, arg)
  local opts, side, field = side_field(arg, kind, true)
  check_options(opts, with_common({ "values", "ignore_case", "trim" }), kind)
  check_table(opts.values, kind .. " { values = ... }")
  if #opts.values == 0 then user_error(kind .. " { values = ... } needs at least one value") end
  local values = {}
  for i, v in ipairs(opts.values) do
    if type(v) ~= "string" and type(v) ~= "number" then user_error(kind .. " values[" .. i .. "] must be text, found " .. type(v)) end
    values[i] = tostring(v)
  end
  local ignore_case, trim = text_compare(opts, kind)
  return rule_decl(kind, opts, side .. "." .. field .. (kind == "value_in" and " allowed" or " not excluded"),
                   { side = side, field = field, values = values, ignore_case = ignore_case, trim = trim })
end
function value_in(arg) return value_set("value_in", arg) end
function value_not_in(arg) return value_set("value_not_in", arg) end

-- unique { "right.order_id" } / unique { "right", fields = { "order_id", "sku" }, scope = "system" }:
-- no two records of the side share the value (within the match group unless scope = "system").
function unique(arg)
  local opts, side, field = side_field(arg, "unique", false)
  check_options(opts, with_common({ "fields", "scope" }), "unique")
  local fields
  if opts.fields ~= nil then
    if field then user_error('unique names "' .. side .. "." .. field .. '" and fields = { ... }: use one') end
    fields = key_list(opts.fields, "unique fields")
  end
  local scope = opts.scope or "group"
  if scope ~= "group" and scope ~= "system" then
    user_error('unique scope must be "group" (within each match group) or "system" (across the whole system), found "' .. tostring(scope) .. '"')
  end
  local what = field and ("." .. field) or fields and ("." .. table.concat(fields, "+")) or " key"
  return rule_decl("unique", opts, "unique " .. side .. what,
                   { side = side, field = field, fields = fields, scope = scope ~= "group" and scope or nil })
end

function present(arg)
  local opts, side, field = side_field(arg, "present", true)
  check_options(opts, COMMON, "present")
  return rule_decl("present", opts, "present " .. side .. "." .. field, { side = side, field = field })
end

-- A custom rule: function(g) gets the match group and returns pass(), fail(...), warn(...) or skip(...).
function rule(name, fn, opts)
  check_string(name, "rule")
  if type(fn) ~= "function" then user_error('rule("' .. name .. '", fn) expects a function, found ' .. type(fn)) end
  opts = opts or {}
  check_table(opts, 'rule("' .. name .. '", fn, opts)')
  check_options(opts, { "severity", "doc", "caused_by" }, 'rule("' .. name .. '")')
  local info = getinfo(fn, "S")
  return rule_decl("lua", { name = name, severity = opts.severity, doc = opts.doc, caused_by = opts.caused_by }, name, {
    fn = fn, fn_source = (info.source:gsub("^@", "")), fn_first = info.linedefined, fn_last = info.lastlinedefined,
  })
end

---------------------------------------------------------------------------- verdicts for Lua rules

local function verdict(outcome, message, details)
  if message ~= nil and type(message) ~= "string" then message = tostring(message) end
  local v = { outcome = outcome, message = message or "" }
  if details ~= nil then
    if type(details) ~= "table" then error(outcome .. "(message, details): details must be a table", 3) end
    -- Converted here, inside the rule's protected call, so the engine only ever reads strings.
    local function text(x) if x ~= nil then return tostring(x) end end
    v.expected, v.actual, v.delta = text(details.expected), text(details.actual), text(details.delta)
  end
  return tagged("verdict", v)
end
function pass(message) return verdict("pass", message) end
function fail(message, details) return verdict("fail", message, details) end
function warn(message, details) return verdict("warn", message, details) end
function skip(message) return verdict("skip", message) end

---------------------------------------------------------------------------- reconciliations

local CARDINALITIES = { one_to_one = true, one_to_many = true, many_to_one = true, many_to_many = true }

-- Match strategies: how records become match groups, tried in order. A keyed strategy
-- joins on equal keys (after an optional normalize); a candidate strategy pairs records
-- no key joins, by amount, time and reference (engine/match/candidates.hpp).
local function normalize_options(v, what)
  if v == nil then return {} end
  check_table(v, what)
  local allowed = { "regex" }
  for _, k in ipairs(NORMALIZE_FLAGS) do allowed[#allowed + 1] = k end
  check_options(v, allowed, what)
  local out = {}
  for _, k in ipairs(NORMALIZE_FLAGS) do
    if v[k] ~= nil and type(v[k]) ~= "boolean" then user_error(what .. "." .. k .. " expects true or false, found " .. type(v[k])) end
    out[k] = v[k]
  end
  if v.regex ~= nil then check_string(v.regex, what .. ".regex"); out.regex = v.regex end
  return out
end

-- `field = "x"` names the same field on both sides; `left`/`right` name each.
local function both_fields(t, what)
  local l, r = t.left or t.field, t.right or t.field
  check_string(l, what .. ".left (or field)")
  check_string(r, what .. ".right (or field)")
  return l, r
end


local function match_strategy(s, i, what, file, line)
  local sw = what .. " match[" .. i .. "]"
  check_table(s, sw)
  check_options(s, { "name", "left", "right", "normalize", "amount", "time", "reference", "max_candidates", "sum",
                     "max_records" }, sw)
  local out = { name = s.name or ("strategy " .. i), file = file, line = line }
  check_string(out.name, sw .. " name")
  if s.left ~= nil or s.right ~= nil then
    if s.amount or s.time or s.reference then
      user_error(sw .. " joins on keys (left, right) and also names criteria (amount, time, reference): a strategy is one or the other")
    end
    out.keyed = true
    out.left_key = key_list(s.left, sw .. ".left")
    out.right_key = key_list(s.right, sw .. ".right")
    out.normalize = normalize_options(s.normalize, sw .. ".normalize")
    return out
  end
  if s.normalize ~= nil then user_error(sw .. ": normalize applies to keys; for a reference write reference = { normalize = ... }") end
  if s.amount == nil and s.time == nil and s.reference == nil then
    user_error(sw .. " needs keys (left = ..., right = ...) or criteria (amount, time, reference)")
  end
  out.keyed = false
  if s.amount ~= nil then
    local aw = sw .. ".amount"
    check_table(s.amount, aw)
    check_options(s.amount, { "field", "left", "right", "tolerance", "tolerance_pct", "base" }, aw)
    out.amount_left, out.amount_right = both_fields(s.amount, aw)
    out.tolerance = number_ref(s.amount.tolerance, aw .. ".tolerance")
    out.tolerance_pct = number_ref(s.amount.tolerance_pct, aw .. ".tolerance_pct")
    out.base = one_of(s.amount.base, TOLERANCE_BASES, "left", aw .. ".base", "left, right, larger or smaller")
  end
  if s.time ~= nil then
    local tw = sw .. ".time"
    check_table(s.time, tw)
    check_options(s.time, { "field", "left", "right", "min", "max", "unit", "zone", "direction" }, tw)
    out.time_left, out.time_right = both_fields(s.time, tw)
    if s.time.max == nil then user_error(tw .. " needs max = the widest lag (in its unit)") end
    out.time_min = number_ref(s.time.min or 0, tw .. ".min")
    out.time_max = number_ref(s.time.max, tw .. ".max")
    out.time_unit = one_of(s.time.unit, TIME_UNITS, "minutes", tw .. ".unit", "minutes, hours or days")
    if s.time.zone ~= nil then
      check_string(s.time.zone, tw .. ".zone")
      if out.time_unit ~= "days" then user_error(tw .. ".zone counts calendar days: it needs unit = \"days\"") end
      out.zone = s.time.zone
    end
    out.direction = one_of(s.time.direction, DIRECTIONS, "either", tw .. ".direction", "either, after (right after left) or before")
  end
  if s.reference ~= nil then
    local rw = sw .. ".reference"
    local r = s.reference
    check_table(r, rw)
    check_options(r, { "field", "left", "right", "normalize", "equal", "contains", "similarity", "method" }, rw)
    out.ref_left, out.ref_right = both_fields(r, rw)
    out.ref_normalize = normalize_options(r.normalize, rw .. ".normalize")
    local modes = (r.equal and 1 or 0) + (r.contains and 1 or 0) + (r.similarity ~= nil and 1 or 0)
    if modes > 1 then user_error(rw .. " takes one of equal = true, contains = true or similarity = N") end
    out.ref_mode = r.contains and "contains" or r.similarity ~= nil and "similar" or "equal"
    if r.similarity ~= nil then out.threshold = number_ref(r.similarity, rw .. ".similarity") end
    if r.method ~= nil then
      if r.similarity == nil then user_error(rw .. ".method applies to similarity = N") end
      out.method = one_of(r.method, SIMILARITY_METHODS, "jaro_winkler", rw .. ".method", "jaro_winkler or levenshtein")
    end
  end
  if s.max_candidates ~= nil then
    if math.type(s.max_candidates) ~= "integer" or s.max_candidates < 1 then
      user_error(sw .. ".max_candidates expects a whole number of at least 1, found " .. tostring(s.max_candidates))
    end
    out.max_candidates = s.max_candidates
  end
  if s.sum ~= nil then
    -- sum = "right": one left record against several right records that add up to it.
    if s.sum ~= "left" and s.sum ~= "right" then
      user_error(sw .. ".sum names the side whose records add up: \"left\" or \"right\", found " .. tostring(s.sum))
    end
    if s.amount == nil or s.time == nil then
      user_error(sw .. " sums amounts: it needs amount = { ... } (what they add up to) and time = { ... } (which records may belong together)")
    end
    out.sum = s.sum
    out.max_candidates = out.max_candidates or 20  -- candidates per record: subsets grow fast
    if s.max_records ~= nil then
      if math.type(s.max_records) ~= "integer" or s.max_records < 1 or s.max_records > 10 then
        user_error(sw .. ".max_records expects a whole number from 1 to 10, found " .. tostring(s.max_records))
      end
      out.max_records = s.max_records
    end
  elseif s.max_records ~= nil then
    user_error(sw .. ".max_records applies to a sum strategy (sum = \"left\" or \"right\")")
  end
  return out
end

-- match = { left = ..., right = ... } (one keyed strategy), or a list of strategies:
-- match = { { left = ..., right = ... }, { amount = ..., time = ... }, cardinality = ... }.
local function match_strategies(m, what, file, line)
  if #m == 0 then
    check_options(m, { "left", "right", "cardinality", "normalize" }, what .. " match")
    local only = match_strategy({ name = "key", left = m.left, right = m.right, normalize = m.normalize }, 1, what, file, line)
    return { only }
  end
  check_options(m, { "cardinality" }, what .. " match (with a list of strategies)")
  local out, names = {}, {}
  for i, s in ipairs(m) do
    out[i] = match_strategy(s, i, what, file, line)
    if names[out[i].name] then user_error(what .. " match: two strategies are named '" .. out[i].name .. "'") end
    names[out[i].name] = true
  end
  return out
end

-- One reconciliation between two systems.
local function declare_reconcile(name, body, file, line)
  local what = 'reconcile "' .. name .. '"'
  check_table(body, what)
  check_options(body, { "left", "right", "match", "rules", "doc", "system_of_record", "chain", "key_by" }, what)
  check_string(body.left, what .. " left")
  -- chain = "earlier reconcile": this hop continues from that one's right system, and its
  -- groups are known by the key of the chain's head (engine/run/chains.hpp).
  if body.chain ~= nil then check_string(body.chain, what .. " chain") end
  -- key_by = "left": groups are known by their left record's id rather than the match key.
  if body.key_by ~= nil and body.key_by ~= "left" then
    user_error(what .. ": key_by takes \"left\" (groups known by their left record's id), found " .. tostring(body.key_by))
  end
  check_string(body.right, what .. " right")
  local sor = body.system_of_record or body.left
  if sor ~= body.left and sor ~= body.right then
    user_error(what .. ": system_of_record must be \"" .. body.left .. "\" or \"" .. body.right .. "\", found \"" .. tostring(sor) .. "\"")
  end
  check_table(body.match, what .. " match")
  local strategies = match_strategies(body.match, what, file, line)
  local first_keyed
  for _, st in ipairs(strategies) do if st.keyed then first_keyed = first_keyed or st end end
  local cardinality = body.match.cardinality or "one_to_one"
  if not CARDINALITIES[cardinality] then
    user_error(what .. ": cardinality must be one_to_one, one_to_many, many_to_one or many_to_many, found '" .. tostring(cardinality) .. "'")
  end
  check_table(body.rules, what .. " rules")
  local rules, names = {}, {}
  for i, r in ipairs(body.rules) do
    if tag_of(r) ~= "rule" then
      user_error(what .. ": rules[" .. i .. "] is not a rule (found " .. (tag_of(r) or type(r)) .. "); use rule(\"name\", function(g) ... end) for custom rules")
    end
    if names[r.name] then
      error(r.file .. ":" .. r.line .. ": rule name '" .. r.name .. "' is used twice in " .. what .. " (first at " .. names[r.name] .. "); give one a name = \"...\"", 0)
    end
    names[r.name] = r.file .. ":" .. r.line
    rules[#rules + 1] = r
  end
  decls.reconciles[#decls.reconciles + 1] = {
    name = name, left = body.left, right = body.right, system_of_record = sor,
    left_key = first_keyed and first_keyed.left_key or {},
    right_key = first_keyed and first_keyed.right_key or {},
    strategies = strategies,
    cardinality = cardinality, rules = rules, file = file, line = line, chain = body.chain, key_by = body.key_by,
  }
end

-- reconcile "stock" { left = "erp", right = { "wms", "storefront" }, ... } spans several systems
-- around one system of record (the left one): it becomes one reconciliation per right
-- system, named "stock/wms" and "stock/storefront", with the same rules. match.right may
-- name the key per system: match = { left = "sku", right = { wms = "sku", storefront = "handle" } }.
function reconcile(name)
  check_string(name, "reconcile")
  local file, line = where()
  if reconcile_names[name] then user_error("reconcile '" .. name .. "' is declared twice (first at " .. reconcile_names[name] .. ")") end
  reconcile_names[name] = file .. ":" .. line
  pending["reconcile " .. name] = file .. ":" .. line
  return function(body)
    pending["reconcile " .. name] = nil
    local what = 'reconcile "' .. name .. '"'
    check_table(body, what)
    if type(body.right) ~= "table" then return declare_reconcile(name, body, file, line) end
    check_string(body.left, what .. " left")
    if #body.right == 0 then user_error(what .. " right = { ... } needs at least one system") end
    if body.system_of_record ~= nil and body.system_of_record ~= body.left then
      user_error(what .. ": with several right systems the system of record is the left one, \"" .. body.left .. "\"; found \"" .. tostring(body.system_of_record) .. "\"")
    end
    check_table(body.match, what .. " match")
    local keyed = type(body.match.right) == "table" and next(body.match.right) ~= nil and #body.match.right == 0
    for i, right in ipairs(body.right) do
      check_string(right, what .. " right[" .. i .. "]")
      local one, match = {}, {}
      for k, v in pairs(body) do one[k] = v end
      for k, v in pairs(body.match) do match[k] = v end
      if keyed then
        match.right = body.match.right[right]
        if match.right == nil then user_error(what .. " match.right names no key for system \"" .. right .. "\"") end
      end
      one.right, one.match, one.system_of_record = right, match, body.left
      local each = name .. "/" .. right
      if reconcile_names[each] then user_error("reconcile '" .. each .. "' is declared twice (first at " .. reconcile_names[each] .. ")") end
      reconcile_names[each] = file .. ":" .. line
      declare_reconcile(each, one, file, line)
    end
  end
end

---------------------------------------------------------------------------- alerts

-- Where new exceptions go at the end of a run. The engine delivers them; stack code
-- only declares the destination, so the sandbox stays closed.
function ndjson_file(opts)
  check_table(opts, "ndjson_file")
  check_options(opts, { "path" }, "ndjson_file")
  check_string(opts.path, "ndjson_file path")
  return tagged("sink", { kind = "ndjson_file", target = opts.path })
end

function command(argv)
  check_table(argv, "command")
  if #argv == 0 then user_error('command expects the program and its arguments: command { "/usr/bin/prog", "--flag" }') end
  local out = {}
  for i, a in ipairs(argv) do check_string(a, "command[" .. i .. "]"); out[i] = a end
  return tagged("sink", { kind = "command", target = argv[1], argv = out })
end

function webhook(opts)
  check_table(opts, "webhook")
  check_options(opts, { "url" }, "webhook")
  check_string(opts.url, "webhook url")
  if not opts.url:match("^https?://") then user_error("webhook url must start with http:// or https://, found '" .. opts.url .. "'") end
  return tagged("sink", { kind = "webhook", target = opts.url })
end

function alert(name)
  check_string(name, "alert")
  local file, line = where()
  if alert_names[name] then user_error("alert '" .. name .. "' is declared twice (first at " .. alert_names[name] .. ")") end
  alert_names[name] = file .. ":" .. line
  pending["alert " .. name] = file .. ":" .. line
  return function(body)
    pending["alert " .. name] = nil
    local what = 'alert "' .. name .. '"'
    check_table(body, what)
    check_options(body, { "to", "min_severity", "attempts", "backoff_ms", "timeout_seconds", "doc" }, what)
    if tag_of(body.to) ~= "sink" then
      user_error(what .. " needs to = ndjson_file { path = ... }, command { ... } or webhook { url = ... }")
    end
    -- Bounded here, so `seam check` names the alert's line: 4294967296 s would reach curl
    -- as 0 (no timeout) and a backoff of 2^31 ms waits 24.8 days. Bounds come from the engine.
    for _, opt in ipairs({ "attempts", "backoff_ms", "timeout_seconds" }) do
      local v, b = body[opt], alert_bounds[opt]
      if v ~= nil and (math.type(v) ~= "integer" or v < b.min or v > b.max) then
        user_error(what .. " " .. opt .. " must be a whole number of " .. b.unit .. " from " .. b.min .. " to " .. b.max ..
                   ", found " .. (type(v) == "string" and ('"' .. v .. '"') or tostring(v)))
      end
    end
    decls.alerts[#decls.alerts + 1] = {
      name = name, kind = body.to.kind, target = body.to.target, argv = body.to.argv,
      min_severity = body.min_severity or "high", attempts = body.attempts or 3, backoff_ms = body.backoff_ms or 1000,
      timeout_seconds = body.timeout_seconds or 10, file = file, line = line,
    }
  end
end

---------------------------------------------------------------------------- libraries

-- include "periods" loads rules/periods.lua shipped with seam; include "lib/x.lua" loads a
-- file inside the stack folder. Both run in this same sandbox.
function include(name)
  check_string(name, "include")
  local chunk, err = load_chunk(name)
  if not chunk then user_error(err) end
  return chunk()
end

return {
  decls = decls,
  finish = function()
    local open = {}
    for what, at in pairs(pending) do open[#open + 1] = at .. ": " .. what .. " has no { ... } body" end
    table.sort(open)
    if #open > 0 then error(open[1], 0) end
    if not decls.name then error("the stack never calls stack \"name\"", 0) end
    return decls
  end,
}
