"""Data files the synthetic generator draws from (see ``adapters.synthetic.tables``)."""
