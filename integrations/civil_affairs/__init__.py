"""Civil affairs: household registration, parents' status, de facto orphan recognition, allowance
payments, guardianship registration and institution places."""
