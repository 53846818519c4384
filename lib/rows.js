'use strict'
/**
 * Row shaping. The native side returns rows as one flat array of values
 * (`[layoutId, ...row1, ...row2]`); a function generated once per column list
 * turns each slice into an object literal, which V8 and JavaScriptCore build
 * far faster than property-by-property native calls.
 */

const objectShapers = new Map()

function propertyKey(name) {
  // A literal "__proto__" key would set the prototype; a computed key defines a property.
  return name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name)
}

/** A function `(values, offset) => row object` for these column names (cached). */
function objectShaper(names) {
  const key = names.join('\u0000')
  let shaper = objectShapers.get(key)
  if (shaper === undefined) {
    const fields = names.map((name, i) => `${propertyKey(name)}: v[o + ${i}]`).join(', ')
    shaper = new Function('v', 'o', `return { ${fields} }`)
    objectShapers.set(key, shaper)
  }
  return shaper
}

/** A function `(values, offset) => values as an array`. */
function arrayShaper(count) {
  return (v, o) => v.slice(o, o + count)
}

/** A function `(values, offset) => first value`. */
function pluckShaper() {
  return (v, o) => v[o]
}

/**
 * A function `(values, offset) => { table: { column: value } }`; columns that
 * come from no table (expressions) are grouped under `$`.
 */
function expandShaper(columns) {
  const tables = columns.map((c) => c.table ?? '$')
  return (v, o) => {
    const row = {}
    for (let i = 0; i < columns.length; i++) {
      const group = (row[tables[i]] ??= {})
      group[columns[i].name] = v[o + i]
    }
    return row
  }
}

module.exports = { objectShaper, arrayShaper, pluckShaper, expandShaper }
