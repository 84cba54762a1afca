// write_merged_store: the root metadata, then /examples and /derived/<run> of the shards as
// external links (or copies committed through the commit index), under path.partial.
#include "attnflow/io/store_merge.hpp"

#include <cstdio>
#include <filesystem>

#include "attnflow/core/error.hpp"
#include "attnflow/io/store.hpp"
#include "store_impl.hpp"

namespace attnflow::io {

using detail::Handle;

namespace {

namespace fs = std::filesystem;

/// `target` as the merged file at `merged` names it: relative to the merged file's directory.
std::string link_path(const std::string& target, const std::string& merged) {
  std::error_code ec;
  const fs::path dir = fs::absolute(fs::path(merged), ec).parent_path();
  const fs::path relative = fs::absolute(fs::path(target), ec).lexically_relative(dir);
  return relative.empty() ? target : relative.string();
}

/// The numbered group `name` under `parent` with external links to `member_path`/NNN of every
/// part, numbered on across the parts.
void link_members(hid_t parent, const char* name, const std::string& member_path,
                  const MergePlan& plan, const std::vector<std::string>& links,
                  const std::string& where) {
  Handle gcpl = detail::numbered_group_properties();
  Handle group = detail::checked(
      H5Gcreate2(parent, name, detail::utf8_link_properties(), gcpl.get(), H5P_DEFAULT), H5Gclose,
      where + ": cannot create group '" + name + "'");
  std::int64_t next = 0;
  for (std::size_t p = 0; p < plan.parts.size(); ++p) {
    for (std::int64_t j = 0; j < plan.parts[p].examples; ++j) {
      const std::string target = member_path + "/" + example_name(j);
      const std::string link = example_name(next++);
      detail::check(H5Lcreate_external(links[p].c_str(), target.c_str(), group.get(), link.c_str(),
                                       detail::utf8_link_properties(), H5P_DEFAULT),
                    where + ": cannot link " + link + " to " + links[p] + ":" + target);
    }
  }
}

void write_linked(const std::string& partial, const std::string& path, const MergePlan& plan,
                  std::int64_t total) {
  std::vector<std::string> links;
  for (const MergePart& part : plan.parts) links.push_back(link_path(part.path, path));
  detail::Hdf5Lock lock;
  Handle fapl = detail::file_access_properties();
  Handle fcpl = detail::group_properties(H5P_FILE_CREATE);
  Handle file = detail::checked(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                                H5Fclose, path + ": cannot create");
  StoreInfo info = plan.info;
  info.shard = ShardRange();
  detail::write_root(file.get(), info,
                     detail::recorded_write_options(plan.info, plan.parts.front().path));
  detail::set_strings(file.get(), "merged_shards", links);
  link_members(file.get(), "examples", "/examples", plan, links, path);
  if (!plan.runs.empty()) {
    Handle derived = detail::checked(
        H5Gcreate2(file.get(), "derived", detail::utf8_link_properties(), H5P_DEFAULT, H5P_DEFAULT),
        H5Gclose, path + ": cannot create group 'derived'");
    for (const RunInfo& run : plan.runs) {
      link_members(derived.get(), run.name.c_str(), "/derived/" + run.name, plan, links, path);
      Handle g = detail::open_group(derived.get(), run.name, path);
      RunInfo complete = run;
      complete.status = RunStatus::Complete;
      detail::write_run_attributes(g.get(), complete);
      detail::set_int(g.get(), detail::kCountAttribute, total, H5T_STD_I64LE);
    }
  }
  detail::set_int(file.get(), detail::kCountAttribute, total, H5T_STD_I64LE);
  detail::flush(file.get(), path);
  if (H5Fclose(file.release()) < 0) detail::throw_hdf5(path + ": cannot close");
}

/// Copies member `path`/NNN of every part into the numbered group `group` of `store` and
/// commits them in its commit index (in one write: the file is still FILE.partial).
void copy_members(Store& store, hid_t group, detail::CommitIndex& commits,
                  const std::string& member_path, const MergePlan& plan) {
  const detail::StoreImpl& s = detail::impl_of(store);
  std::vector<haddr_t> addresses;
  for (const MergePart& part : plan.parts) {
    Handle fapl = detail::file_access_properties();
    Handle source = detail::checked(H5Fopen(part.path.c_str(), H5F_ACC_RDONLY, fapl.get()),
                                    H5Fclose, part.path + ": cannot open as HDF5");
    for (std::int64_t j = 0; j < part.examples; ++j) {
      const std::string from = member_path + "/" + example_name(j);
      const std::string to =
          example_name(commits.count() + static_cast<std::int64_t>(addresses.size()));
      const std::string where = part.path + ":" + from;
      detail::check(H5Ocopy(source.get(), from.c_str(), group, to.c_str(), H5P_DEFAULT,
                            detail::utf8_link_properties()),
                    where + ": cannot copy into " + s.path);
      H5O_info_t info;
      detail::check(H5Oget_info_by_name2(group, to.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
                    where);
      addresses.push_back(info.addr);
    }
  }
  commits.append(s.file.get(), addresses, s.path + ": " + member_path);
}

void write_copied(const std::string& partial, const MergePlan& plan) {
  StoreInfo info = plan.info;
  info.shard = ShardRange();
  Store store = Store::create(partial, info,
                              detail::recorded_write_options(plan.info, plan.parts.front().path));
  detail::StoreImpl& s = detail::impl_of(store);
  {
    detail::Hdf5Lock lock;
    copy_members(store, s.examples.get(), s.commits, "/examples", plan);
    s.size = s.commits.count();
  }
  for (const RunInfo& run : plan.runs) {
    begin_run(store, run, RunStart::New);
    {
      detail::Hdf5Lock lock;
      Handle g = detail::open_group(s.file.get(), "derived/" + run.name, s.path);
      detail::CommitIndex commits;
      commits.open(g.get(), s.path + ": run '" + run.name + "'");
      copy_members(store, g.get(), commits, "/derived/" + run.name, plan);
    }
    finish_run(store, run.name);
  }
  store.close();
}

}  // namespace

void write_merged_store(const std::string& path, const MergePlan& plan) {
  if (plan.parts.empty()) throw Error(path + ": no shards to merge");
  std::int64_t total = 0;
  for (const MergePart& part : plan.parts) total += part.examples;
  const std::string partial = path + ".partial";
  std::remove(partial.c_str());
  try {
    if (plan.copy) {
      write_copied(partial, plan);
    } else {
      write_linked(partial, path, plan, total);
    }
  } catch (...) {
    std::remove(partial.c_str());
    throw;
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    throw Error(path + ": cannot move " + partial + " into place");
  }
}

}  // namespace attnflow::io
