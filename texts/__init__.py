"""The Russian a person reads: words for numbers, dates and names, the plan's reasons, and the labels of stored codes.

Pure and at the bottom of the import graph: it imports nothing from DS Desk, so `dialer/`,
`scheduler/` and `service/` may all use it. Repositories return codes, numbers and dates; views,
templates and the plan builder turn them into words here.
"""
