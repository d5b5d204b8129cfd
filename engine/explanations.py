"""Every diagnostic code's explanation: what, why, an example and the fix, beside the codes
(diagnostics.CODES), as data. Rendered by the docs' errors page (docs/errors.py) and printed
by `exportctl explain CODE`, as rustc and ruff print theirs.

A new code goes into `diagnostics.CODES` and gets an entry here (tests/test_docs.py fails
otherwise). `kind` says how the example is shown: `policy` and `transaction` examples are run
at docs build time and their real diagnostics shown under them; `text` examples as written.
"""

from __future__ import annotations

import difflib

from .diagnostics import CODES

__all__ = ["EXPLANATIONS", "explanation", "explanation_text", "suggest"]


HEADER_DEMO = 'regime demo "Demo" binding version "1" source "Demo Regs"\n'


EXPLANATIONS: dict[str, dict] = {
    "E101": {
        "what": "The policy file does not follow the grammar of the language.",
        "why": "A policy is read in full before anything is evaluated; a typo must stop it, not change a decision.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to Cuba are denied" cite "Demo 1"\n'
                    '  when destination = CU\n'
                    '  then prohibited\n'),
        "kind": "policy",
        "fix": "Read the caret and the list of what was expected there. Comparisons are written `==`; "
               "dates `YYYY-MM-DD`; strings in double quotes. The [language reference](language.md) has every construct.",
    },
    "E102": {
        "what": "A policy file cannot be read, or the policy folder has no `*.policy` file.",
        "why": "Deciding with part of the law missing would give a wrong answer that looks right.",
        "example": "$ exportctl check --policies ./policys\nE102 no such policy folder: policys",
        "kind": "text",
        "fix": "Check the path given to `--policies` (it is the folder that holds one folder per regime) "
               "and the file's permissions and encoding (UTF-8).",
    },
    "E103": {
        "what": "An expression nests deeper than 64 levels: parentheses or braces, `not`, unary minus, each "
                "arithmetic operator of a chain and each quantifier count one level.",
        "why": "Every stage (parser, checker, compiler) walks expressions recursively; a bound keeps a hostile or "
               "generated policy from crashing them, and no law needs more.",
        "example": (HEADER_DEMO + 'define deep = ' + '(' * 65 + '1' + ')' * 65 + '\n'),
        "kind": "policy",
        "fix": "Name parts of the expression with `define`; each definition starts a new expression.",
    },
    "E104": {
        "what": "A string literal is longer than 10,000 characters.",
        "why": "Strings are titles, citations and notes; a megabyte string is a mistake or an attack on memory.",
        "example": "policies/demo/demo.policy:4:9: E104 a string of 12,000 characters, more than the limit of 10,000",
        "kind": "text",
        "fix": "Cite the law by reference rather than quoting it in full.",
    },
    "E105": {
        "what": "A number is written with more than 100 characters.",
        "why": "Python refuses to convert integers of more than 4,300 digits, and no quantity in the law needs them.",
        "example": (HEADER_DEMO + 'define big = ' + '9' * 120 + '\n'),
        "kind": "policy",
        "fix": "Check the number: values are in the transaction's currency, percentages are written `25%`.",
    },
    "E106": {
        "what": "A policy file is larger than 1,000,000 characters.",
        "why": "A policy is read whole into memory; the limit keeps a stray or hostile file from exhausting it.",
        "example": "policies/demo/demo.policy:1:1: E106 the policy file has 1,500,000 characters, more than the limit of 1,000,000",
        "kind": "text",
        "fix": "Split long lists into a shared policy that the regime `use`s.",
    },
    "E107": {
        "what": "A policy file has more than 5,000 declarations (`set`, `define`, `rule`, ...).",
        "why": "A bound on the work one file can ask of the checker and compiler.",
        "example": "policies/demo/demo.policy:5003:1: E107 more than 5,000 declarations in one policy file",
        "kind": "text",
        "fix": "Split the regime into policies that `use` each other.",
    },
    "E108": {
        "what": "A string has a backslash escape other than `\\\"` (a quote) and `\\\\` (a backslash).",
        "why": "The language defines only those two; any other (`\\x41`, `\\u00e9`, `\\n`) would mean something different "
               "in each programming language a reader knows.",
        "example": (HEADER_DEMO + 'set names = {"Soci\\u00e9t\\u00e9"}\n'),
        "kind": "policy",
        "fix": "Write the character itself: policy files are UTF-8 (`\"Société\"`).",
    },
    "E109": {
        "what": "An entry of the policy folder was not read: a symbolic link that points outside the folder, "
                "a broken link, or a link to a folder that contains it (a loop).",
        "why": "A policy folder may come from someone else: following a link to `/` or in a loop would hang or read "
               "files that are not policies; links to folders inside it (a workspace) are followed.",
        "example": "policies/root: E109 a symbolic link out of the policy folder (to /): not read",
        "kind": "text",
        "fix": "Copy the regime's folder into the policy folder, or point the link at a folder inside it.",
    },
    "E110": {
        "what": "A set literal `{...}` (or an argument list) has more than 10,000 members.",
        "why": "A bound on the work and memory one literal can ask of the parser.",
        "example": "policies/demo/demo.policy:3:80012: E110 more than 10,000 members or arguments in one list",
        "kind": "text",
        "fix": "Split the set into several sets and join them: `set all = part1 + part2`.",
    },
    "E201": {
        "what": "A name is used that no set or definition of this regime (or of a regime it `use`s) defines, "
                "or a name that is not a set is used where a set is needed.",
        "why": "An unknown name has no value; guessing one would silently change what a rule means.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to D:5 are denied" cite "Demo 1"\n'
                    '  when destination in D9\n'
                    '  then prohibited\n'),
        "kind": "policy",
        "fix": "Fix the spelling (the hint suggests the nearest name), declare the `set` or `define`, or "
               "`use` the regime that defines it and prefix the name (`mtcr.partners`).",
    },
    "E202": {
        "what": "Two sets or definitions of one regime have the same name, or two policy files define the same regime.",
        "why": "A reader could not tell which of the two a rule means.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'set allies = {AU, CA}\n'
                    'set allies = {GB}\n'),
        "kind": "policy",
        "fix": "Rename one of them, or merge them into one declaration (`set allies = {AU, CA, GB}`).",
    },
    "E203": {
        "what": "A `use` declaration, a conflict's `with` clause, or `outcome(...)` names a regime that no policy defines.",
        "why": "The names it would bring in do not exist; the policy cannot be read without them.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'use mtrc\n'),
        "kind": "policy",
        "fix": "Use one of the regime ids (`mtcr`, `wassenaar`, `us-itar`, `us-ear`, `eu-dual-use`, "
               "`cn-export-control`), or add the policy that defines it to the folder.",
    },
    "E204": {
        "what": "A call names a function that is neither a built-in (`components_of`, `outcome`) nor a definition "
                "with parameters.",
        "why": "There is nothing to call: the condition has no meaning.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Spacecraft need a licence" cite "Demo 1"\n'
                    '  when is_spacecraft(item)\n'
                    '  then license_required\n'),
        "kind": "policy",
        "fix": "Declare it with `define is_spacecraft(x) = ...`, or fix the spelling.",
    },
    "E205": {
        "what": "A definition or built-in is called with more or fewer arguments than it takes.",
        "why": "A parameter without a value, or a value without a parameter, makes the definition mean something else.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'define spacecraft(eccn) = eccn startswith "9A515"\n'
                    'rule demo.a "Spacecraft need a licence" cite "Demo 1"\n'
                    '  when spacecraft(item.classification.eccn, destination)\n'
                    '  then license_required\n'),
        "kind": "policy",
        "fix": "Pass exactly the parameters the definition declares; the message shows its signature.",
    },
    "E206": {
        "what": "Two rules (or conflicts) have the same id. Rule ids are unique across all regimes.",
        "why": "A finding names its rule by id; two rules with one id would make a decision ambiguous "
               "and golden cases unable to say which rule they expect.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to Cuba are denied" cite "Demo 1" when destination == "CU" then prohibited\n'
                    'rule demo.a "Exports to Iran are denied" cite "Demo 2" when destination == "IR" then prohibited\n'),
        "kind": "policy",
        "fix": "Give each rule its own id, ideally naming the provision (`ear.744_21.meu`).",
    },
    "E207": {
        "what": "`item` is used outside a rule: in `applies`, or in a definition without parameters.",
        "why": "`item` is bound only while a rule is evaluated for one item of the transaction.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'define spacecraft = item.classification.eccn startswith "9A515"\n'),
        "kind": "policy",
        "fix": "Give the definition a parameter (`define spacecraft(x) = x.classification.eccn ...`) and "
               "call it with `item`; in `applies`, quantify: `any i in items: ...`.",
    },
    "E208": {
        "what": "A set is built from itself, directly (`set a = a + {FR}`) or through other sets (a -> b -> a).",
        "why": "Its members would have no answer: evaluating it would never end.",
        "example": (HEADER_DEMO + 'set allies = partners + {FR}\nset partners = allies + {DE}\n'),
        "kind": "policy",
        "fix": "Build each set only from sets defined before it in the chain and from literal members.",
    },
    "E209": {
        "what": "A definition calls itself (directly or through others) with an argument that is not smaller: not a "
                "component of its parameter (`any c in x.components: f(c)`, `components_of(x)`).",
        "why": "Recursion is allowed only down a component tree, which ends at the leaves; any other would never end.",
        "example": (HEADER_DEMO + 'define deep(x) = deep(x)\n'),
        "kind": "policy",
        "fix": "Recurse over components (`any c in x.components: f(c)`), or write the condition without recursion.",
    },
    "E210": {
        "what": "Regimes `use` each other in a cycle (a uses b, b uses a).",
        "why": "Which regime's names are read first would have no answer, and a set or definition could end up "
               "built from itself.",
        "example": "policies/a/a.policy:2:1: E210 `use` forms a cycle: a -> b -> a",
        "kind": "text",
        "fix": "Move what both need into a third policy that both `use`.",
    },
    "E211": {
        "what": "A two-letter member of a set of countries is not an ISO 3166-1 alpha-2 code (XK, Kosovo, is allowed). "
                "A set counts as one of countries when it is compared with a country field of the transaction, is built "
                "into such a set, or its title says it lists countries or destinations.",
        "why": "Transactions name countries by ISO code: `UK` would never match the United Kingdom (`GB`).",
        "example": (HEADER_DEMO + 'set allies "Allied countries" = {FR, UK}\n'),
        "kind": "policy",
        "fix": "Use the ISO 3166-1 alpha-2 code the hint suggests (`GB`, `GR`, ...).",
    },
    "E212": {
        "what": "An expression, with the bodies of the definitions it calls, nests deeper than 160 levels.",
        "why": "Evaluation walks into each definition it calls; the bound keeps it far from Python's recursion limit.",
        "example": "policies/demo/demo.policy:83:14: E212 `d80` nests 161 levels deep with the definitions it calls, more than 160",
        "kind": "text",
        "fix": "Flatten long chains of definitions that only wrap one another.",
    },
    "E301": {
        "what": "A fact path names a field the transaction schema does not have.",
        "why": "The fact would always be unknown, so the rule could never be settled; usually a typo.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to Cuban end users are denied" cite "Demo 1"\n'
                    '  when end_user.citizenship == "CU"\n'
                    '  then prohibited\n'),
        "kind": "policy",
        "fix": "Use a path of the [transaction format](formats.md) (the hint suggests the nearest). If the law "
               "needs a fact the schema lacks, ask for a schema change rather than approximating.",
    },
    "E302": {
        "what": "A quantifier (`any`, `all`, `count`, `sum`) ranges over something that is not a list or a set.",
        "why": "There is nothing to range over; the condition has no meaning.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "US parts need a licence" cite "Demo 1"\n'
                    '  when any c in item.origin: c == "US"\n'
                    '  then license_required\n'),
        "kind": "policy",
        "fix": "Quantify over a list: `items`, `item.components`, `components_of(item)`, `end_use`, `end_user.lists`, or a set.",
    },
    "E401": {
        "what": "A rule lacks a required clause: `cite`, `when` or `then` (a conflict: `cite`, `with`, `when`).",
        "why": "A rule without its citation cannot be defended; without a condition or an outcome it decides nothing.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to Cuba are denied"\n'
                    '  when destination == "CU"\n'
                    '  then prohibited\n'),
        "kind": "policy",
        "fix": "Add the clause; for `cite`, the provision the rule encodes (CFR section and paragraph, article, annex entry).",
    },
    "E402": {
        "what": "A rule gives the same clause twice (two `when`, two `cite`, ...).",
        "why": "Only one can count, and the reader cannot tell which.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "Exports to Cuba are denied" cite "Demo 1"\n'
                    '  when destination == "CU"\n'
                    '  when destination == "IR"\n'
                    '  then prohibited\n'),
        "kind": "policy",
        "fix": "Combine the conditions with `and` / `or`, or split the rule in two.",
    },
    "E403": {
        "what": "`exception to` names a rule that this regime does not define.",
        "why": "An exception that defeats nothing is a silent no-op: the licence requirement it was meant to lift stands.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.rs1 "Spacecraft need a licence" cite "Demo 1"\n'
                    '  when item.classification.eccn startswith "9A515" then license_required\n'
                    'rule demo.sta "STA for allies" cite "Demo 2"\n'
                    '  exception to demo.rs2\n'
                    '  when destination in {FR, DE} then authorized "STA"\n'),
        "kind": "policy",
        "fix": "Name an existing rule of the same regime (exceptions never cross regimes).",
    },
    "E404": {
        "what": "Exceptions form a cycle: a rule is, through a chain of `exception to`, an exception to itself.",
        "why": "Which rule defeats which would have no answer.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "A" cite "Demo 1" exception to demo.b when destination == "FR" then license_required\n'
                    'rule demo.b "B" cite "Demo 2" exception to demo.a when destination == "FR" then authorized "X"\n'),
        "kind": "policy",
        "fix": "Decide which rule is the general one and which the exception; only the exception says `exception to`.",
    },
    "E405": {
        "what": "An effective period ends before it starts (a regime, rule, or set member with `until` before `from`).",
        "why": "The rule or member would never be in force: almost always swapped dates.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'set embargoed = {NI from 2024-03-15 until 2023-01-01}\n'),
        "kind": "policy",
        "fix": "Swap or correct the dates; both are inclusive.",
    },
    "E406": {
        "what": "A regime header lacks its `version` or its `source`.",
        "why": "Every decision reports which text of the law it applied; without them it cannot be reproduced or defended.",
        "example": 'regime demo "Demo Export Rules" binding\n  version "2026-07-23"\n',
        "kind": "policy",
        "fix": 'Add both: `version "2026-07-23"` (the date or amendment of the text) and `source "..."` (where it was read).',
    },
    "E407": {
        "what": "`outcome(\"regime\")` is used outside a `conflict`.",
        "why": "A regime's outcome is known only after every regime has been evaluated; rules cannot depend on each other's results.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "A" cite "Demo 1" when outcome("demo") == "prohibited" then prohibited\n'),
        "kind": "policy",
        "fix": "Express the interplay as a `conflict ... with REGIMES when ...`, which is reported beside the decision.",
    },
    "E420": {
        "what": "A rule says `denial <kind>` but its outcome is not `prohibited`.",
        "why": "The denial kind says what a `prohibited` stands for (an absolute ban, a policy of denial, a strong presumption of denial, \"in principle not permitted\"); on any other outcome it means nothing and is almost always a slip.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "A" cite "Demo 1" when destination == "KP" then license_required\n'
                    '  denial policy_of_denial\n'),
        "kind": "policy",
        "fix": "Make the outcome `prohibited`, or drop the `denial` clause.",
    },
    "E421": {
        "what": "An `encodes` declaration does not name one classification list (`item.classification.eccn`, `.usml`, `.eu`, `.cn`, ...), or has no citation.",
        "why": "The encoded scope is compared with each item's entry on one list; any other path cannot say what the policy was written for.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'encodes item.origin {"US"} cite "Demo 1"\n'),
        "kind": "policy",
        "fix": 'Name the list: `encodes item.classification.eccn {"9A515", "EAR99"} cite "..."`.',
    },
    "E422": {
        "what": "A rule's `oblige` names an obligation its regime does not declare.",
        "why": "A decision would promise a duty nobody wrote down, with no text and no citation.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'rule demo.a "A" cite "Demo 1" when destination == "KP" then license_required\n'
                    '  oblige demo.licence\n'),
        "kind": "policy",
        "fix": 'Declare it (`obligation demo.licence license "Apply for a licence" authority "..." cite "..."`) or fix the id.',
    },
    "E423": {
        "what": "An advisory regime (MTCR, Wassenaar) declares an obligation.",
        "why": "Advisory regimes describe how partner governments review; the exporter's duties come from the binding law that implements them.",
        "example": ('regime demo "Demo" advisory version "1" source "Demo Guidelines"\n'
                    'obligation demo.x record "Keep records" cite "Demo 1"\n'),
        "kind": "policy",
        "fix": "Move the obligation to the binding regime that imposes it.",
    },
    "E501": {
        "what": "A rule has no golden case where it fires.",
        "why": "A rule nobody has seen fire may never fire (a typo in a set, a wrong path): CI requires proof.",
        "example": ("policies/us-ear/us-ear.policy:31:1: E501 rule `ear.9a515.rs1` (15 CFR 742.6(a)(1)) "
                    "has no golden case where it fires\nhint: add a case under cases/ whose `expect.fires` names it"),
        "kind": "text",
        "fix": "Add a case to `policies/<regime>/cases/*.yaml` whose `expect.fires` lists the rule "
               "(see the [authoring guide](authoring.md)).",
    },
    "E502": {
        "what": "A rule has no near-miss case: a case about it where it does not fire.",
        "why": "A rule that fires everywhere is as wrong as one that never fires; the near miss shows where its edge is.",
        "example": ("policies/us-ear/us-ear.policy:31:1: E502 rule `ear.9a515.rs1` (15 CFR 742.6(a)(1)) "
                    "has no near-miss case\nhint: add a case that names it in `about` or `expect.not_fires` "
                    "and where it does not fire"),
        "kind": "text",
        "fix": "Add a case close to a firing one but just outside the rule (another destination, another "
               "paragraph) that names the rule in `about` or `expect.not_fires`.",
    },
    "E503": {
        "title": "golden case fails",
        "what": "A golden case fails: the decision differs from what the case expects.",
        "why": "Either the policy changed what the law says for this case, or the case is wrong; a person must decide which.",
        "example": ("policies/us-ear/cases/9a515.yaml:12:1: E503 golden case fails: A 9A515 satellite to Brazil "
                    "needs a licence: us-ear: expected license_required, got no_license_required"),
        "kind": "text",
        "fix": "Run `exportctl test -k \"<case name>\"` for the findings trace; fix the rule, or (if the law changed) "
               "the case, in the same change.",
    },
    "E504": {
        "what": "In a binding regime that declares obligations, a rule that requires a licence or authorises under an exception names none.",
        "why": "A determination must say what the exporter now has to do (which licence, which conditions, which documents); a rule without obligations leaves that to guesswork.",
        "example": ('regime demo "Demo" binding version "1" source "Demo Regs"\n'
                    'obligation demo.records record "Keep records for five years" cite "Demo 9"\n'
                    'rule demo.a "A" cite "Demo 1" when destination == "KP" then license_required\n'),
        "kind": "policy",
        "fix": 'Add `oblige ID[, ID...]` to the rule, or `oblige none "why there is nothing to do"`.',
    },
    "E601": {
        "what": "A transaction file cannot be read: not valid YAML or JSON, empty, or missing.",
        "why": "Nothing can be decided from a file that cannot be read.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: [CN\n",
        "kind": "transaction",
        "fix": "Fix the syntax at the line shown; a JSON Lines file needs one complete JSON object per line.",
    },
    "E602": {
        "what": "A transaction violates the schema: a missing required field, an unknown key, a value of the wrong form.",
        "why": "Unknown keys are errors, so that a typo cannot silently turn a fact into an unknown (or a "
               "wrong value into a different decision).",
        "example": ("id: TX-1\ndate: 2026-11-28\ndestination: CN\nitems:\n  - id: sat-1\n"
                    "    classification: {eccn: 9A515.a}\n    orign: FR\n"),
        "kind": "transaction",
        "fix": "Compare with the [transaction format](formats.md): the message gives the JSON path and the line.",
    },
    "E603": {
        "what": "An input is larger or deeper than exportctl reads: file size, JSON Lines line length, nesting "
                "depth, number of items and components, digits of an integer, length of a string "
                "(the limits are listed under [Limits](formats.md#limits)).",
        "why": "A hostile file must be refused at once, with its place, instead of exhausting the stack, memory or "
               "the CPU (and, in a batch, taking the records after it down too). The limits are far above any real "
               "transaction.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: FR\nitems:\n  - id: sat-1\n    value: 1234567890123456789012345678901234\n",
        "kind": "transaction",
        "fix": "Check the value at the place shown: it is almost always a generated or corrupted file. Split a very "
               "large batch into JSON Lines (one transaction per line).",
    },
    "E604": {
        "what": "A number is NaN or Infinity (JSON `NaN`, `Infinity`, a literal like `1e999`, YAML `.nan`, `.inf`).",
        "why": "A value that is not a number compares false with everything, so it would silently change de minimis "
               "and threshold findings; it cannot be written to JSON output or to a decision record either.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: FR\nitems:\n  - id: sat-1\n    value: .nan\n",
        "kind": "transaction",
        "fix": "Give the real number, or leave the key out if it is not known (absent means unknown).",
    },
    "E605": {
        "what": "A key is given twice in one mapping (JSON or YAML), in a transaction, a golden case file or a decision record.",
        "why": "Parsers disagree on which one wins (the first, the last, an error), so a duplicate key means one "
               "thing to exportctl and another to a reviewer or another tool.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: FR\ndestination: CN\nitems: [{id: sat-1}]\n",
        "kind": "transaction",
        "fix": "Keep the one you mean and delete the other.",
    },
    "E606": {
        "what": "A date does not exist (2026-02-30, 2026-13-01), in a date field or anywhere YAML reads a date.",
        "why": "The date selects the law in force; an impossible date has no law to apply.",
        "example": "id: TX-1\ndate: 2026-02-30\ndestination: FR\nitems: [{id: sat-1}]\n",
        "kind": "transaction",
        "fix": "Correct the date (YYYY-MM-DD, a real day of that month).",
    },
    "E607": {
        "what": "A country field holds a code of the right shape that is not an ISO 3166-1 alpha-2 code (nor XK, "
                "Kosovo) or not an existing ISO 3166-2 subdivision code (UA-43 Crimea, UA-14 Donetsk, UA-09 Luhansk). "
                "Every field the schema types as a country is checked, with a suggestion for common confusions "
                "(UK for GB, NK for KP, EL for GR).",
        "why": "Country groups list ISO codes: `UK` is in none of them, so a transaction to the United Kingdom written "
               "`UK` would be judged as a shipment to an unknown, unlisted country and could come out wrong.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: UK\nitems: [{id: sat-1}]\n",
        "kind": "transaction",
        "fix": "Use the ISO 3166-1 alpha-2 code the message suggests (the codes come from the `pycountry` package).",
    },
    "E608": {
        "what": "A YAML alias (`*name`) in a transaction or golden case file.",
        "why": "Aliases can expand exponentially (a few hundred bytes can stand for gigabytes: the \"billion laughs\"), "
               "and a shared value is easy to misread. Transactions are data; write each value out.",
        "example": "id: TX-1\ndate: 2026-11-28\ndestination: FR\nexporter: &us {name: Acme, country: US}\n"
                   "end_user: *us\nitems: [{id: sat-1}]\n",
        "kind": "transaction",
        "fix": "Replace the alias by the value it names; in golden cases use `base` and `with` instead.",
    },
    "E609": {
        "what": "An input path or an entry of an input folder is not a regular file that can be read: a FIFO, a "
                "device, a socket, a dangling symbolic link, a link loop, a link out of the folder or to a folder, "
                "or a subfolder that cannot be listed.",
        "why": "Reading a FIFO or a device can hang or never end; skipping an entry silently would leave a "
               "transaction unscreened while the run reports success.",
        "example": "batch/feed.jsonl: E609 cannot read batch/feed.jsonl: a FIFO; only regular files, folders and - (stdin) are read",
        "kind": "text",
        "fix": "Pipe a stream through stdin (`-`) instead of naming it; fix or remove the link; make the folder readable.",
    },
    "E661": {
        "what": "A restricted-party list file (a policy folder's lists/*.yaml) is not valid: bad YAML, a field the "
                "list format (policies/schema/list.schema.json) does not have, an entry id used twice in a list, an "
                "entry without a list, or a removal date not after its listing date.",
        "why": "Screening decides whether a party is treated as listed: a list that cannot be read must stop the run, "
               "not leave parties silently unscreened.",
        "example": "policies/lists/us-entity-list.yaml:12:1: E661 entries[1]: removed 2020-01-01 is not after listed 2022-08-24",
        "kind": "text",
        "fix": "Correct the entry; `exportctl lists` reads every list file and shows its version and source.",
    },
    "E662": {
        "what": "The matching parameters (lists/matching.yaml) are missing or invalid: a field missing or out of "
                "range, or the review level not below the match threshold.",
        "why": "The threshold and weights decide which parties are treated as listed; they are versioned and cited "
               "like law, and a typo must not change decisions silently.",
        "example": "policies/lists/matching.yaml:20:1: E662 review (0.9) must be below threshold (0.88)",
        "kind": "text",
        "fix": "Correct the value (docs/screening.md explains each parameter); run the golden match corpus "
               "(tests/test_screening_corpus.py) after any change.",
    },
    "E663": {
        "what": "`exportctl lists import` cannot read the download: not the US Consolidated Screening List's JSON or "
                "CSV, nor OpenSanctions FollowTheMoney entities, or FollowTheMoney entities whose list is not known.",
        "why": "An import that guessed would put parties on the wrong list, or drop them.",
        "example": "entities.ftm.json: E663 which list do these entities belong to? None of their data sets is known "
                   "(us_bis_denied, us_ofac_sdn): say --list ID",
        "kind": "text",
        "fix": "Pass the file as downloaded, say its format with --from, or the list of its entries with --list.",
    },
    "E664": {
        "what": "A good-guy file (reviewed false positives) is invalid: a field missing, an entry not in the form "
                "<list>/<entry id>, or an expiry date not after the review date; or --good-guys names no file.",
        "why": "A good-guy record clears a party of a listing: it must say who reviewed it, when, why and until when.",
        "example": "good-guys.yaml:4:1: E664 good_guys[0]: expires 2026-01-01 is not after reviewed_on 2026-03-01",
        "kind": "text",
        "fix": "Complete the record (docs/screening.md#reviewed-false-positives-good-guys).",
    },
    "E701": {
        "what": "A golden case file is malformed: invalid YAML, a field the case format does not have, a case name "
                "used twice, or an override that cannot be applied to its base.",
        "why": "A case that cannot be read proves nothing; it must not be skipped silently.",
        "example": ("policies/us-ear/cases/9a515.yaml:39:20: E701 invalid YAML: expected ',' or ']', but got '['\n"
                    "   39 |     without: [items[0].classification.eccn]\n"
                    "                           ^"),
        "kind": "text",
        "fix": "Fix the file at the line shown. Quote fact paths with brackets inside YAML flow lists: "
               "`without: [\"items[0].classification.eccn\"]`.",
    },
    "E702": {
        "what": "A golden case names a rule or regime (in `fires`, `not_fires`, `about` or `regimes`) that does not exist.",
        "why": "An expectation about a rule that does not exist is always met or never met, so it proves nothing.",
        "example": ("policies/us-ear/cases/9a515.yaml:12:1: E503 golden case fails: A 9A515 satellite to Brazil "
                    "needs a licence: `ear.9a515.rs9` is not a rule of any regime"),
        "kind": "text",
        "fix": "Fix the rule id (rule ids are listed on each regime's page of the [policy reference](reference/index.md)).",
    },
    "E801": {
        "title": "decision record file damaged or not writable",
        "what": "The decision record file (`--record`) is damaged or cannot be written; nothing was appended.",
        "why": "A record chain with a gap or a torn line would no longer prove what was decided when.",
        "example": "decisions.jsonl: E801 cannot write the record file: [Errno 13] Permission denied: 'decisions.jsonl'",
        "kind": "text",
        "fix": "Run `exportctl records verify FILE` to find the damaged line; write to a path you can write to. "
               "Never edit a record file by hand.",
    },
    "E802": {
        "title": "record not in canonical form, or a decision that cannot be recorded",
        "what": "`records verify`: a line of the record file is not byte for byte the canonical JSON of its record "
                "(a duplicate key, reordered keys, changed spacing or escapes, NaN). `evaluate --record`: a decision "
                "that cannot be written canonically; nothing was appended.",
        "why": "A record proves what was decided only if no edit a reader could see can pass verification; the hash "
               "covers the parsed record, so the bytes must be the one canonical text of it.",
        "example": "decisions.jsonl:7: E802 unreadable: not a canonical record: duplicate key 'outcome'",
        "kind": "text",
        "fix": "The file was edited: restore it from a copy. Never edit a record file by hand.",
    },
    "E803": {
        "title": "record line exceeds a limit",
        "what": "`records verify`: a line of the record file is longer or nested deeper than any record exportctl writes.",
        "why": "Such a line was not written by exportctl; reading it must not exhaust memory or the stack.",
        "example": "decisions.jsonl:3: E803 unreadable: nested deeper than 100 levels",
        "kind": "text",
        "fix": "The file was edited or corrupted: restore it from a copy.",
    },
    "E901": {
        "what": "An internal error: exportctl itself failed (exit code 3).",
        "why": "This is a bug in exportctl, not in your policy or transaction.",
        "example": ("exportctl: E901 internal error, please report: KeyError: 'items'\n"
                    "(run with --debug for the traceback)"),
        "kind": "text",
        "fix": "Run the same command with `--debug` and report the traceback with the input that caused it.",
    },
}
"""What, why, an example and the fix for every diagnostic code. `kind` says how the example is
shown: `policy` and `transaction` examples are run at build time and their real diagnostics shown
under them; `text` examples are shown as written."""


def suggest(code: str) -> list[str]:
    """Known codes close to `code` (for "did you mean"), best first."""
    known = sorted(set(CODES) | set(EXPLANATIONS))
    return difflib.get_close_matches(code.strip().upper(), known, n=3, cutoff=0.5)


def explanation(code: str) -> dict | None:
    """The explanation of `code` (any case) as a JSON-ready dict, or None for an unknown code."""
    c = code.strip().upper()
    ex = EXPLANATIONS.get(c)
    if ex is None:
        return None
    return {"code": c, "title": CODES.get(c) or ex.get("title", ""), "what": ex["what"], "why": ex["why"],
            "example": ex["example"], "example_kind": ex.get("kind", "text"), "fix": ex["fix"]}


def explanation_text(entry: dict) -> str:
    """`explanation(code)` as plain text for a terminal."""
    indent = "".join("    " + line + "\n" if line else "\n" for line in entry["example"].rstrip("\n").split("\n"))
    label = {"policy": "Example policy", "transaction": "Example transaction"}.get(entry["example_kind"], "Example")
    return (f"{entry['code']}: {entry['title']}\n\n"
            f"What: {entry['what']}\n\nWhy: {entry['why']}\n\n{label}:\n\n{indent}\n"
            f"Fix: {entry['fix']}\n")
