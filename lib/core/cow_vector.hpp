// A std::vector whose elements are shared between copies until one of them changes
// (copy on write). Copying a CowVector costs one reference count; the first mutation
// of a CowVector that shares its elements copies them. The large parts of a policy that
// a `vm set-groups` does not change (a group's rules, a VM's addresses and groups) are
// CowVectors, so the policy copy the change starts from shares them with the running
// generation (docs/design/update-protocol.md, "What a membership change copies").
//
// Thread-safety: one CowVector object is like a std::vector (readers may share it; a
// writer needs it alone). Distinct CowVector objects that share elements may be read
// and each written by its own thread: a write first unshares (the count is atomic).
// Caution, as with any copy-on-write container: a reference or iterator taken through
// a mutable access must not be used after the CowVector has been copied (the copy
// shares what it points at); take it again after the copy.
// Errors: std::bad_alloc only, like std::vector.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace sgfw::core {

template <typename T>
class CowVector {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using reference = T&;
  using const_reference = const T&;
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  CowVector() = default;
  CowVector(std::vector<T> v) { assign_vector(std::move(v)); }  // NOLINT: implicit, like a vector
  CowVector(std::initializer_list<T> l) : CowVector(std::vector<T>(l)) {}
  template <typename It>
  CowVector(It first, It last) : CowVector(std::vector<T>(first, last)) {}
  CowVector& operator=(std::vector<T> v) {
    assign_vector(std::move(v));
    return *this;
  }
  CowVector& operator=(std::initializer_list<T> l) { return *this = std::vector<T>(l); }

  // Reading: never copies.
  [[nodiscard]] const std::vector<T>& get() const noexcept { return elements_ ? *elements_ : empty_vector(); }
  operator const std::vector<T>&() const noexcept { return get(); }  // NOLINT: reads like a vector
  [[nodiscard]] size_type size() const noexcept { return get().size(); }
  [[nodiscard]] bool empty() const noexcept { return get().empty(); }
  [[nodiscard]] const_iterator begin() const noexcept { return get().begin(); }
  [[nodiscard]] const_iterator end() const noexcept { return get().end(); }
  [[nodiscard]] const_iterator cbegin() const noexcept { return get().begin(); }
  [[nodiscard]] const_iterator cend() const noexcept { return get().end(); }
  [[nodiscard]] const T& operator[](size_type i) const noexcept { return get()[i]; }
  [[nodiscard]] const T& at(size_type i) const { return get().at(i); }  // std::out_of_range
  [[nodiscard]] const T& front() const noexcept { return get().front(); }
  [[nodiscard]] const T& back() const noexcept { return get().back(); }
  [[nodiscard]] const T* data() const noexcept { return get().data(); }
  // Whether this and `o` hold the same elements object (a copy not written since).
  [[nodiscard]] bool shares_with(const CowVector& o) const noexcept { return elements_ && elements_ == o.elements_; }

  // Writing: unshares first.
  [[nodiscard]] std::vector<T>& mutate() {
    if (!elements_) {
      elements_ = std::make_shared<std::vector<T>>();
    } else if (elements_.use_count() != 1) {
      elements_ = std::make_shared<std::vector<T>>(*elements_);
    } else {
      // Sole owner: the other owners' reads happened before they released their counts.
      // (libstdc++ and libc++ release counts with acq_rel, which this fence pairs with;
      // the standard itself does not promise that use_count() synchronizes.)
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *elements_;
  }
  iterator begin() { return mutate().begin(); }
  iterator end() { return mutate().end(); }
  T& operator[](size_type i) { return mutate()[i]; }
  T& front() { return mutate().front(); }
  T& back() { return mutate().back(); }
  void push_back(const T& v) { mutate().push_back(v); }
  void push_back(T&& v) { mutate().push_back(std::move(v)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return mutate().emplace_back(std::forward<Args>(args)...);
  }
  void reserve(size_type n) { mutate().reserve(n); }
  void resize(size_type n) { mutate().resize(n); }
  void pop_back() { mutate().pop_back(); }
  void clear() noexcept { elements_.reset(); }
  template <typename It>
  iterator insert(const_iterator pos, It first, It last) {
    const auto at = pos - get().begin();  // before unsharing moves the elements
    auto& v = mutate();
    return v.insert(v.begin() + at, first, last);
  }
  iterator insert(const_iterator pos, T value) {
    const auto at = pos - get().begin();
    auto& v = mutate();
    return v.insert(v.begin() + at, std::move(value));
  }
  iterator erase(const_iterator first, const_iterator last) {
    const auto a = first - get().begin(), b = last - get().begin();
    auto& v = mutate();
    return v.erase(v.begin() + a, v.begin() + b);
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }

  friend bool operator==(const CowVector& a, const CowVector& b) {
    return a.elements_ == b.elements_ || a.get() == b.get();
  }
  friend bool operator==(const CowVector& a, const std::vector<T>& b) { return a.get() == b; }
  friend auto operator<=>(const CowVector& a, const CowVector& b) {
    using Order = decltype(a.get() <=> b.get());
    if (a.elements_ == b.elements_) return Order::equivalent;  // the same elements
    return a.get() <=> b.get();
  }

 private:
  static const std::vector<T>& empty_vector() noexcept {
    static const std::vector<T> kEmpty;
    return kEmpty;
  }
  void assign_vector(std::vector<T> v) {
    if (v.empty()) elements_.reset();
    else elements_ = std::make_shared<std::vector<T>>(std::move(v));
  }

  std::shared_ptr<std::vector<T>> elements_;  // null: empty
};

}  // namespace sgfw::core
