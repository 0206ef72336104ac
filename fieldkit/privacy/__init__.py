"""Privacy: the key store, detection and anonymisation, consent and withdrawal."""
