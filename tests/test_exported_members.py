import kit


def test_all_lists_every_public_name_and_each_resolves():
    assert kit.__all__ == sorted(kit.__all__)
    assert len(kit.__all__) == len(set(kit.__all__))
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name


def test_public_members_are_exactly_all():
    public = {name for name in dir(kit) if not name.startswith("_")}
    # Submodules imported while resolving names are attributes of the package too.
    modules = {name for name in public if type(getattr(kit, name)).__name__ == "module"}
    assert public - modules - {"annotations"} == set(kit.__all__)


def test_assess_is_the_function_even_after_submodule_imports():
    import kit.assess.engine

    assert callable(kit.assess)
    assert kit.assess(kit.Dataset.from_frames()).lookups.empty


def test_all_matches_the_lazy_table():
    assert set(kit.__all__) == set(kit._API)


def test_unknown_name_is_an_attribute_error():
    try:
        kit.does_not_exist  # noqa: B018
    except AttributeError as error:
        assert "does_not_exist" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_case_package_names_are_its_lazy_table_and_resolve():
    import kit.case

    assert set(kit.case.__all__) == set(kit.case._API)
    for name in kit.case.__all__:
        assert getattr(kit.case, name) is not None
