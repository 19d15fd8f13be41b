"""The London-wide service directory (SPEC §6 Service directory):

- ``catalogue``    a borough's ``ServiceCatalogue`` as typed ``Service`` objects
- ``eligibility``  whether a referral meets a service's criteria
- ``search``       ``ServiceSearch`` criteria, ranking and results
- ``store``        the ``CatalogueStore`` interface (SQLite in ``hub.store``)
- ``broker``       the hub's handlers for catalogues and searches
- ``client``       the borough side: publish a catalogue, search
"""
