"""Export and import of a whole catalogue: .xlsx, a .zip of CSV files, JSON and YAML.

`shapes` says what the tables and columns are, `export` writes them, `importer` reads,
checks and writes them back, all or nothing (its steps: `reading`, `planning` with
`plan_services` and `plan_parts`, `report`): new rows through
`carte.catalogue.services.bulk` (the rules of the catalogue services, a batch at a time),
changes and removals through the catalogue services one row at a time. The cells of a
workbook, a CSV or an archive are read by `carte.core.tabular`, which the KPI values'
import shares.

Design, shared by every format:
- Tables: categories, services, levels, roles, symptoms, suppliers, inputs, steps,
  outputs, customers, competences, governance, artefacts (the organisation's
  artefacts, owned by a service or shared by a PMO) and artefact_uses (a service
  reusing an artefact by reference). Dependencies (M-5) are not a table of their own:
  an input's `source_service` and `source_output` columns name the output it comes
  from, so an input has at most one source, as in the model.
- Rows name each other by natural keys, never ids: service code, category name,
  person e-mail, PMO name, customer group name, supplier and output name within their
  service, artefact name with its owner, a need's competence of the framework by its
  name. People, PMOs and customer groups must exist in the target organisation; a
  competence the framework lacks is recorded there (whoever may import may add
  competences). Keys are matched whatever their case (the organisation holds codes and
  names unique so): a name that refers to another row is that row in any case, while a
  row's own code or name changed only in case is a change, written once.
- xlsx: a sheet per table with a header row. CSV: a .zip of `<table>.csv` files (UTF-8
  with BOM), same headers. JSON and YAML: {"format": "carte-catalogue", "version": 1,
  "tables": {table: [row, ...]}}. In spreadsheet formats, a list (rationale, scopes,
  delivering PMOs, an output's customers) is one cell with an item per line, and text
  that starts with = + - @ is prefixed with a quote, which the import removes again.
- Row numbers in problems: as a spreadsheet shows them (the header is row 1) for xlsx
  and CSV; the position in the list, from 1, for JSON and YAML.
- Not carried: the stage (exported for information, ignored on import: the lifecycle
  owns it), published versions, archived rows, symptom descriptions, artefact files.
"""
