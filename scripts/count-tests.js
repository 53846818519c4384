#!/usr/bin/env node
// Prints "tests: N passed, N failed" from a bun JUnit report and a cargo test log,
// preceded by the name of every failed test (CI shows only the tail of the output).
// Exits non-zero when anything failed or when either report is missing.
'use strict'
const { readFileSync, existsSync } = require('node:fs')

const [junitPath, cargoLogPath] = process.argv.slice(2)
let passed = 0
let failed = 0
let skipped = 0
let missing = 0

if (existsSync(junitPath)) {
  const head = readFileSync(junitPath, 'utf8').match(/<testsuites\b[^>]*>/)
  const attr = (name) => Number((head && head[0].match(new RegExp(`\\b${name}="(\\d+)"`)) || [0, 0])[1])
  const suiteFailures = attr('failures') + attr('errors')
  skipped += attr('skipped')
  passed += attr('tests') - suiteFailures - attr('skipped')
  failed += suiteFailures
  if (suiteFailures > 0) for (const name of failedBunTests(readFileSync(junitPath, 'utf8'))) console.log(`failed: ${name}`)
} else {
  console.error(`count-tests: no JUnit report at ${junitPath} (bun test did not run)`)
  missing++
}

if (existsSync(cargoLogPath)) {
  const log = readFileSync(cargoLogPath, 'utf8')
  for (const m of log.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/gm)) {
    passed += Number(m[1])
    failed += Number(m[2])
    skipped += Number(m[3])
  }
  for (const m of log.matchAll(/^test (\S+) \.\.\. FAILED$/gm)) console.log(`failed: cargo test ${m[1]}`)
  if (!/^test result:/m.test(log)) {
    console.error('count-tests: cargo test ran no test binary (build failure?)')
    missing++
  }
} else {
  console.error(`count-tests: no cargo log at ${cargoLogPath}`)
  missing++
}

failed += missing
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''))
process.exit(failed > 0 ? 1 : 0)

/** "file:line > describe > name: message" (lines joined) for each failed testcase of a JUnit report. */
function failedBunTests(xml) {
  const names = []
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const failure = (m[3] || '').match(/<(?:failure|error)\b([^>]*)/)
    if (!failure) continue
    const attr = (name, attrs = m[1]) => (attrs.match(new RegExp(`\\b${name}="([^"]*)"`)) || [])[1] || ''
    const message = unescapeXml(attr('message', failure[1])).split('\n').filter(Boolean).join(' | ').slice(0, 300)
    const path = [attr('classname'), attr('name')].filter(Boolean).map(unescapeXml).join(' > ')
    names.push(`${attr('file')}:${attr('line')} > ${path}${message ? `: ${message}` : ''}`)
  }
  return names
}

function unescapeXml(text) {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+));/g, (_, name, code) =>
    code ? String.fromCharCode(Number(code)) : { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }[name])
}
