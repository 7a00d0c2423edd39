"""The КТУ motivation sheet of the ДС department (issue 16, item 4): its rules, pure (docs/ktu.md)."""
